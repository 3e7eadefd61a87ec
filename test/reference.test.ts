/**
 * Checks the float64 reference against values computed by hand, so that the
 * other suites can trust it. Expected values carry 7 to 8 significant digits
 * and are compared at rtol 1e-7 (atol 1e-7 near 0).
 */
import { describe, expect, test } from "vitest";

import * as ref from "./reference.js";
import { seededRandom, uniform, oneHot } from "./helpers.js";

const RTOL = 1e-7;

function expectNear(
  actual: number,
  expected: number,
  label: string,
  rtol = RTOL,
) {
  const bound = rtol * Math.max(1, Math.abs(expected));
  expect(
    Math.abs(actual - expected),
    `${label}: got ${actual}, expected ${expected}`,
  ).toBeLessThanOrEqual(bound);
}

const probs2 = ref.tensor([
  [0.05, 0.95, 0],
  [0.1, 0.8, 0.1],
]);

describe("reference hand-computed cases", () => {
  test("smoothing with ignored row", () => {
    const logits = ref.tensor([
      [2, 0.5, -1],
      [0.3, 0.2, 0.1],
      [-0.5, 1.5, 0.25],
    ]);
    const r = ref.sparseCategoricalCrossentropy([0, 9, 2], logits, {
      fromLogits: true,
      ignoreClass: 9,
      labelSmoothing: 0.2,
    });
    expectNear(r.losses[0], 0.5413113, "row 0");
    expect(r.losses[1]).toBe(0);
    expectNear(r.losses[2], 1.5686185, "row 2");
    expectNear(ref.reduceTotals(r.totals, "sum"), 2.1099298, "sum");
    expectNear(ref.reduceTotals(r.totals, "mean"), 1.0549649, "mean");
    expect(r.totals.count).toBe(2);
  });

  test("ignored -Infinity row", () => {
    const logits = ref.tensor([
      [-Infinity, -Infinity, -Infinity],
      [1, 2, 3],
    ]);
    const r = ref.sparseCategoricalCrossentropy([-1, 2], logits, {
      fromLogits: true,
      ignoreClass: -1,
    });
    expect(r.losses[0]).toBe(0);
    expectNear(ref.reduceTotals(r.totals, "mean"), 0.407606, "mean");
  });

  test("-Infinity logit beside target", () => {
    const logits = ref.tensor([[-Infinity, 0, 0]]);
    const one = ref.sparseCategoricalCrossentropy([1], logits, {
      fromLogits: true,
    });
    expectNear(one.losses[0], Math.LN2, "label 1");
    const zero = ref.sparseCategoricalCrossentropy([0], logits, {
      fromLogits: true,
    });
    expect(zero.losses[0]).toBe(Infinity);
  });

  test("large logits stay finite", () => {
    const logits = ref.tensor([
      [100, 100, 100],
      [1000, 0, -1000],
      [88.8, 0, 0],
    ]);
    const r = ref.sparseCategoricalCrossentropy([0, 1, 0], logits, {
      fromLogits: true,
    });
    expectNear(r.losses[0], Math.log(3), "row 0");
    expectNear(r.losses[1], 1000, "row 1");
    expectNear(r.losses[2], 5.44e-39, "row 2");
    expect(r.losses[2]).toBeGreaterThan(5.43e-39);
    expect(r.losses[2]).toBeLessThan(5.45e-39);
  });

  test("all-zero probability row", () => {
    const r = ref.categoricalCrossentropy(
      ref.tensor([[1, 0, 0]]),
      ref.tensor([[0, 0, 0]]),
    );
    expectNear(r.losses[0], 16.1180957, "loss");
  });

  test("sample weights and reductions", () => {
    const opts = { sampleWeight: [0.3, 0.7] };
    const r = ref.sparseCategoricalCrossentropy([1, 2], probs2, opts);
    expectNear(
      ref.reduceTotals(r.totals, "sum_over_batch_size"),
      0.8135988,
      "sobs",
    );
    const one = ref.sparseCategoricalCrossentropy([1, 2], probs2, {
      sampleWeight: [0, 1],
    });
    expectNear(
      ref.reduceTotals(one.totals, "mean_with_sample_weight"),
      2.3025851,
      "mwsw",
    );
    const none = ref.sparseCategoricalCrossentropy([1, 2], probs2, {
      sampleWeight: [0, 0],
    });
    expect(ref.reduceTotals(none.totals, "mean_with_sample_weight")).toBe(0);
  });

  test("probability smoothing sparse and one-hot", () => {
    const sparse = ref.sparseCategoricalCrossentropy([1, 2], probs2, {
      labelSmoothing: 0.1,
    });
    const dense = ref.categoricalCrossentropy(
      ref.tensor(oneHot([1, 2], 3), [2, 3]),
      probs2,
      { labelSmoothing: 0.1 },
    );
    for (const r of [sparse, dense]) {
      expectNear(r.losses[0], 0.6850013, "row 0");
      expectNear(r.losses[1], 2.2332704, "row 1");
    }
  });

  test("large batch sum", () => {
    const n = 100000;
    const logits = ref.tensor(new Float64Array(2 * n), [n, 2]);
    const r = ref.sparseCategoricalCrossentropy(new Array(n).fill(1), logits, {
      fromLogits: true,
    });
    expectNear(ref.reduceTotals(r.totals, "sum"), 69314.71806, "sum", 1e-9);
    expectNear(ref.reduceTotals(r.totals, "mean"), 0.69314718, "mean");
  });

  test("tiny target probabilities", () => {
    const probs = ref.tensor([
      [1e-5, 0.99999],
      [2e-6, 0.999998],
    ]);
    const r = ref.sparseCategoricalCrossentropy([0, 0], probs);
    expectNear(r.losses[0], 11.5129255, "row 0");
    expectNear(r.losses[1], 13.1223634, "row 1");
  });

  test("class weights with smoothing", () => {
    const logits = ref.tensor([
      [1, 2],
      [3, 0.4],
    ]);
    const r = ref.sparseCategoricalCrossentropy([9, 1], logits, {
      fromLogits: true,
      ignoreClass: 9,
      classWeights: [0.2, 0.3],
      labelSmoothing: 0.1,
    });
    expectNear(
      ref.reduceTotals(r.totals, "mean_with_sample_weight"),
      2.5404506,
      "mwsw",
    );
    expect(r.totals.weightSum).toBeCloseTo(0.3, 15);
  });
});

describe("reference row operations", () => {
  test("logSumExp edge rows", () => {
    expect(ref.logSumExpRow([-Infinity, -Infinity])).toBe(-Infinity);
    expect(ref.logSumExpRow([Infinity, 0])).toBe(Infinity);
    expect(ref.logSumExpRow([NaN, 0])).toBeNaN();
    expect(ref.logSumExpRow([Infinity, NaN])).toBeNaN();
    expectNear(ref.logSumExpRow([1e30, 1e30]), 1e30, "1e30");
    expectNear(ref.logSumExpRow([0, 0, 0, 0]), Math.log(4), "zeros");
    expectNear(ref.logSumExpRow([-Infinity, 5]), 5, "one finite");
  });

  test("softmax of all -Infinity row is NaN", () => {
    const x = ref.tensor([[-Infinity, -Infinity]]);
    expect(Array.from(ref.softmax(x).data).every(Number.isNaN)).toBe(true);
    expect(Array.from(ref.logSoftmax(x).data).every(Number.isNaN)).toBe(true);
  });

  test("softmax along axis 1", () => {
    // [N=1, C=2, d=3]: classes are strided by 3.
    const x = ref.tensor([
      [
        [0, 1, 2],
        [Math.log(3), 1, 0],
      ],
    ]);
    const s = ref.softmax(x, 1).data;
    expectNear(s[0], 0.25, "s[0,0,0]");
    expectNear(s[3], 0.75, "s[0,1,0]");
    expectNear(s[1], 0.5, "s[0,0,1]");
    expectNear(s[2] + s[5], 1, "column 2 sum");
    const lse = ref.logSumExp(x, 1);
    expect(lse.shape).toEqual([1, 3]);
    expectNear(lse.data[0], Math.log(4), "lse[0,0]");
  });

  test("axis 1 loss matches transposed input", () => {
    const random = seededRandom(11);
    const [n, c, d] = [2, 3, 4];
    const channelsFirst = uniform(random, n * c * d, -3, 3);
    const channelsLast = new Float64Array(n * d * c);
    for (let i = 0; i < n; i++)
      for (let k = 0; k < c; k++)
        for (let j = 0; j < d; j++)
          channelsLast[(i * d + j) * c + k] =
            channelsFirst[(i * c + k) * d + j];
    const labels = [0, 1, 2, 1, 2, 0, 0, 1];
    const first = ref.sparseCategoricalCrossentropy(
      labels,
      ref.tensor(channelsFirst, [n, c, d]),
      { fromLogits: true, axis: 1 },
    );
    const last = ref.sparseCategoricalCrossentropy(
      labels,
      ref.tensor(channelsLast, [n, d, c]),
      { fromLogits: true },
    );
    expect(first.lossShape).toEqual([n, d]);
    for (let i = 0; i < labels.length; i++) {
      expectNear(first.losses[i], last.losses[i], `loss ${i}`, 1e-12);
    }
  });
});

describe("reference broadcasting", () => {
  test("per-sequence weight over tokens", () => {
    const w = ref.broadcastPerLoss([2, 3], [2, 3]);
    expect(Array.from(w)).toEqual([2, 2, 2, 3, 3, 3]);
    expect(Array.from(ref.broadcastPerLoss(5, [2]))).toEqual([5, 5]);
    expect(Array.from(ref.broadcastPerLoss([7], [3]))).toEqual([7, 7, 7]);
  });

  test("weighted divisor counts tokens", () => {
    const logits = ref.tensor(new Float64Array(2 * 3 * 2), [2, 3, 2]);
    const r = ref.sparseCategoricalCrossentropy([0, 1, 0, 1, 0, 1], logits, {
      fromLogits: true,
      sampleWeight: [2, 0.5],
      mask: [1, 1, 0, 1, 0, 0],
    });
    expect(r.totals.count).toBe(3);
    expectNear(r.totals.weightSum, 2 + 2 + 0.5, "weightSum");
    expectNear(r.totals.sum, (2 + 2 + 0.5) * Math.LN2, "sum");
  });
});

describe("reference focal", () => {
  test("gamma 0 alpha 1 is crossentropy", () => {
    const random = seededRandom(5);
    const logits = ref.tensor(uniform(random, 4 * 5, -4, 4), [4, 5]);
    const labels = [0, 4, 2, 3];
    const opts = { fromLogits: true, labelSmoothing: 0.1 };
    const plain = ref.sparseCategoricalCrossentropy(labels, logits, opts);
    const focal = ref.sparseCategoricalFocalCrossentropy(labels, logits, {
      ...opts,
      gamma: 0,
      alpha: 1,
    });
    for (let i = 0; i < 4; i++)
      expectNear(focal.losses[i], plain.losses[i], `row ${i}`, 1e-14);
  });

  test("focal hand value", () => {
    // p = [0.2, 0.8], label 1: -0.25 * 0.2^2 * log 0.8.
    const r = ref.sparseCategoricalFocalCrossentropy(
      [1],
      ref.tensor([[0.2, 0.8]]),
    );
    expectNear(r.losses[0], -0.25 * 0.04 * Math.log(0.8), "loss", 1e-12);
    const logits = ref.tensor([[0, Math.log(4)]]);
    const fromLogits = ref.sparseCategoricalFocalCrossentropy([1], logits, {
      fromLogits: true,
    });
    expectNear(fromLogits.losses[0], r.losses[0], "from logits", 1e-12);
  });
});

describe("reference gradients", () => {
  const random = seededRandom(23);
  const shape = [4, 5];
  const logits = ref.tensor(uniform(random, 20, -3, 3), shape);
  // Probabilities well inside the clip, so central differences stay smooth.
  const probs = ref.tensor(
    Float64Array.from({ length: 20 }, () => 0.05 + random()),
    shape,
  );
  const labels = [1, 0, 4, 2];
  const cases = [
    { name: "plain", opts: {} },
    {
      name: "smoothing and weights",
      opts: { labelSmoothing: 0.2, classWeights: [1, 2, 0.5, 1, 3] },
    },
    {
      name: "mask and sample weight",
      opts: { mask: [1, 0, 1, 1], sampleWeight: [0.5, 2, 1, 3] },
    },
  ];
  const reductions: ref.RefReduction[] = [
    "none",
    "sum",
    "mean",
    "mean_with_sample_weight",
  ];

  for (const focal of [false, true]) {
    for (const fromLogits of [true, false]) {
      for (const { name, opts } of cases) {
        test(`${focal ? "focal" : "plain"} ${fromLogits ? "logits" : "probabilities"} ${name}`, () => {
          const yPred = fromLogits ? logits : probs;
          for (const reduction of reductions) {
            const options = {
              ...opts,
              fromLogits,
              gamma: 2,
              alpha: [0.25, 0.5, 1, 0.3, 0.7],
            };
            const dy = reduction === "none" ? [1, -2, 0.5, 3] : undefined;
            const analytic = ref.sparseCategoricalCrossentropyWithGrad(
              labels,
              yPred,
              { ...options, reduction, dy },
              focal,
            ).grad;
            const lossFn = (t: ref.Tensor) =>
              focal
                ? ref.sparseCategoricalFocalCrossentropy(labels, t, options)
                : ref.sparseCategoricalCrossentropy(labels, t, options);
            const numeric = ref.finiteDifference(
              ref.objective(lossFn, shape, reduction, dy),
              yPred.data,
            );
            for (let j = 0; j < numeric.length; j++) {
              expectNear(
                analytic[j],
                numeric[j],
                `${reduction} grad[${j}]`,
                1e-7,
              );
            }
          }
        });
      }
    }
  }

  test("saturated logits gradient", () => {
    const g = ref.sparseCategoricalCrossentropyWithGrad(
      [1],
      ref.tensor([[100, -100]]),
      {
        fromLogits: true,
        reduction: "sum",
      },
    );
    expect(g.loss).toBe(200);
    expect(Array.from(g.grad)).toEqual([1, -1]);
  });

  test("clipped probability gets zero direct term", () => {
    // Class 2 is clipped, so only the normalization moves its gradient.
    const p = ref.tensor([[0.5, 0.5, 0]]);
    const g = ref.sparseCategoricalCrossentropyWithGrad([0], p, {
      reduction: "sum",
    }).grad;
    // Loss -log(p0 / S): dL/dp0 = -1/p0 + 1/S, dL/dp_j = 1/S otherwise.
    expectNear(g[0], -2 + 1, "g0");
    expectNear(g[1], 1, "g1");
    expectNear(g[2], 1, "g2");
  });
});
