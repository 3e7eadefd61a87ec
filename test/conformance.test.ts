/**
 * Edge cases of crossentropy checked against values computed by hand in
 * float64: ignored rows with smoothing, -Infinity logits, large logits, the
 * probability clip, weighted reductions and a large batch.
 *
 * Tolerances: per-row losses within 1e-5 * max(1, |expected|), reductions
 * within 1e-6 relative.
 */
import { describe, expect, test } from "vitest";

import {
  categoricalCrossentropy,
  sparseCategoricalCrossentropy,
} from "../src/index.js";
import {
  expectElementsClose,
  expectReductionClose,
  toNumbers,
} from "./helpers.js";

const probs2 = [
  [0.05, 0.95, 0],
  [0.1, 0.8, 0.1],
];

describe("conformance", () => {
  test("ignoreClass with label smoothing", () => {
    const logits = [
      [2, 0.5, -1],
      [0.3, 0.2, 0.1],
      [-0.5, 1.5, 0.25],
    ];
    const options = { fromLogits: true, ignoreClass: 9, labelSmoothing: 0.2 };
    const losses = sparseCategoricalCrossentropy([0, 9, 2], logits, options);
    expectElementsClose(losses, [0.5413113, 0, 1.5686185], "none");
    expect(toNumbers(losses)[1], "ignored row").toBe(0);
    const sum = sparseCategoricalCrossentropy([0, 9, 2], logits, {
      ...options,
      reduction: "sum",
    });
    expectReductionClose(sum, 2.1099298, "sum");
    const mean = sparseCategoricalCrossentropy([0, 9, 2], logits, {
      ...options,
      reduction: "mean",
    });
    expectReductionClose(mean, 1.0549649, "mean");
  });

  test("ignored -Infinity row unread", () => {
    const logits = [
      [-Infinity, -Infinity, -Infinity],
      [1, 2, 3],
    ];
    const mean = sparseCategoricalCrossentropy([-1, 2], logits, {
      fromLogits: true,
      ignoreClass: -1,
      reduction: "mean",
    });
    expectReductionClose(mean, 0.407606, "mean");
    const none = toNumbers(
      sparseCategoricalCrossentropy([-1, 2], logits, {
        fromLogits: true,
        ignoreClass: -1,
      }),
    );
    expect(none[0], "ignored row").toBe(0);
  });

  test("-Infinity logit never NaN", () => {
    const logits = [[-Infinity, 0, 0]];
    const one = toNumbers(
      sparseCategoricalCrossentropy([1], logits, { fromLogits: true }),
    );
    expectElementsClose(one, [Math.LN2], "label 1");
    const zero = toNumbers(
      sparseCategoricalCrossentropy([0], logits, { fromLogits: true }),
    );
    expect(zero[0], "label 0").toBe(Infinity);
  });

  test("large logits stay exact", () => {
    const logits = [
      [100, 100, 100],
      [1000, 0, -1000],
      [88.8, 0, 0],
    ];
    const losses = toNumbers(
      sparseCategoricalCrossentropy([0, 1, 0], logits, { fromLogits: true }),
    );
    expectElementsClose(losses.slice(0, 2), [Math.log(3), 1000], "rows 0-1");
    expect(losses[2], "row 2 not negative").toBeGreaterThanOrEqual(0);
    expect(losses[2], "row 2 near 5.44e-39").toBeLessThanOrEqual(1e-7);
  });

  test("all-zero probabilities hit clip", () => {
    const loss = toNumbers(categoricalCrossentropy([[1, 0, 0]], [[0, 0, 0]]));
    expect(Number.isNaN(loss[0]), "NaN").toBe(false);
    expectElementsClose(loss, [16.1180957], "loss");
  });

  test("sample weights in reductions", () => {
    const labels = [1, 2];
    const sobs = sparseCategoricalCrossentropy(labels, probs2, {
      sampleWeight: [0.3, 0.7],
      reduction: "sum_over_batch_size",
    });
    expectReductionClose(sobs, 0.8135988, "sum_over_batch_size");
    const weighted = sparseCategoricalCrossentropy(labels, probs2, {
      sampleWeight: [0, 1],
      reduction: "mean_with_sample_weight",
    });
    expectReductionClose(weighted, 2.3025851, "mean_with_sample_weight");
    const zero = sparseCategoricalCrossentropy(labels, probs2, {
      sampleWeight: [0, 0],
      reduction: "mean_with_sample_weight",
    });
    expect(zero, "zero weights").toBe(0);
  });

  test("smoothing on probabilities", () => {
    const expected = [0.6850013, 2.2332704];
    const sparse = sparseCategoricalCrossentropy([1, 2], probs2, {
      labelSmoothing: 0.1,
    });
    expectElementsClose(sparse, expected, "sparse");
    const oneHot = [
      [0, 1, 0],
      [0, 0, 1],
    ];
    const dense = categoricalCrossentropy(oneHot, probs2, {
      labelSmoothing: 0.1,
    });
    expectElementsClose(dense, expected, "one-hot");
  });

  test("100k rows sum accurately", () => {
    const n = 100000;
    const logits = new Float32Array(2 * n);
    const labels = new Int32Array(n).fill(1);
    const options = { fromLogits: true, shape: [n, 2] };
    const sum = sparseCategoricalCrossentropy(labels, logits, {
      ...options,
      reduction: "sum",
    });
    expectReductionClose(sum, 69314.71806, "sum");
    const mean = sparseCategoricalCrossentropy(labels, logits, {
      ...options,
      reduction: "mean",
    });
    expectReductionClose(mean, 0.69314718, "mean");
  });

  test("tiny target probabilities", () => {
    const probs = [
      [1e-5, 0.99999],
      [2e-6, 0.999998],
    ];
    const losses = sparseCategoricalCrossentropy([0, 0], probs);
    expectElementsClose(losses, [11.5129255, 13.1223634], "losses");
  });

  test("class weights smoothing weighted mean", () => {
    const loss = sparseCategoricalCrossentropy(
      [9, 1],
      [
        [1, 2],
        [3, 0.4],
      ],
      {
        fromLogits: true,
        ignoreClass: 9,
        classWeights: [0.2, 0.3],
        labelSmoothing: 0.1,
        reduction: "mean_with_sample_weight",
      },
    );
    expectReductionClose(loss, 2.5404506, "mean_with_sample_weight");
  });
});
