// The README's first example: per-sample losses, then weights chosen at run
// time, then a masked mean over the tokens of padded sequences.
// Run with: npx tsx examples/quickstart.ts
import {
  logSumExp,
  sparseCategoricalCrossentropy,
  sparseCategoricalCrossentropyWithGrad,
} from "../src/index.js";

// Four examples, three classes, logits from some model.
const logits = [
  [2.0, 0.5, -1.0],
  [0.1, 0.2, 3.0],
  [1.5, 1.4, 1.3],
  [-1.0, 4.0, 0.0],
];
const labels = [0, 0, 1, 1];

// One loss per example.
const losses = sparseCategoricalCrossentropy(labels, logits, { fromLogits: true });
console.log("per-example losses:", losses);

// Weight the examples by a rule known only now, then reduce as needed.
const weighted = sparseCategoricalCrossentropy(labels, logits, {
  fromLogits: true,
  sampleWeight: [1, 2, 1, 0.5],
  reduction: "mean_with_sample_weight",
});
console.log("weighted mean:", weighted);

// Tokens: [batch 2, time 3, classes 3], the second sequence padded.
const tokenLogits = [
  [[3, 0, 0], [0, 3, 0], [0, 0, 3]],
  [[1, 2, 0], [9, 9, 9], [9, 9, 9]],
];
const tokenLabels = [[0, 1, 2], [1, 0, 0]];
const mask = [[1, 1, 1], [1, 0, 0]];
const perToken = sparseCategoricalCrossentropy(tokenLabels, tokenLogits, { fromLogits: true, mask });
console.log("per-token losses:", perToken);
const tokenMean = sparseCategoricalCrossentropy(tokenLabels, tokenLogits, {
  fromLogits: true,
  mask,
  reduction: "mean",
});
console.log("masked token mean:", tokenMean);

// The same with flat typed arrays: the fast path.
const flat = new Float32Array(logits.flat());
console.log(
  "typed-array losses:",
  sparseCategoricalCrossentropy(Int32Array.from(labels), flat, { fromLogits: true, shape: [4, 3] }),
);
console.log("log-sum-exp per row:", logSumExp(flat, { shape: [4, 3] }));

// The loss and its gradient with respect to the logits, fused.
const { loss, grad } = sparseCategoricalCrossentropyWithGrad(labels, logits, {
  fromLogits: true,
  reduction: "mean",
});
console.log("mean loss:", loss);
console.log("d(mean loss)/d(logits):", grad);
