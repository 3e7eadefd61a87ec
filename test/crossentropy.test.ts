/**
 * categoricalCrossentropy and sparseCategoricalCrossentropy against the
 * float64 reference on a matrix of options, input forms and hard cases.
 *
 * Tolerances: every per-row loss within rtol 1e-5 of max(1, |reference|)
 * (so atol 1e-5 below 1), every reduction within rtol 1e-6.
 */
import { describe, expect, test } from "vitest";

import {
  categoricalCrossentropy,
  reduceTotals,
  sparseCategoricalCrossentropy,
} from "../src/index.js";
import * as ref from "./reference.js";
import {
  ALL_REDUCTIONS,
  CLASS_COUNTS,
  OPTION_SETS,
  checkLossCase,
  expectElementsClose,
  expectReductionClose,
  expectTotalsClose,
  formsFor,
  integers,
  makeCase,
  oneHot,
  probabilityRows,
  seededRandom,
  toNumbers,
  uniform,
  type LossCase,
} from "./helpers.js";

const BATCH = 6;

const apis = [
  {
    name: "sparse",
    sparse: true,
    api: sparseCategoricalCrossentropy,
    reference: ref.sparseCategoricalCrossentropy,
  },
  {
    name: "categorical",
    sparse: false,
    api: categoricalCrossentropy,
    reference: (t: ArrayLike<number>, y: ref.Tensor, o: ref.RefOptions) =>
      ref.categoricalCrossentropy(ref.tensor(t, y.shape), y, o),
  },
];

/** Checks a case with the sparse or categorical API. */
function check(
  c: LossCase,
  label: string,
  forms?: Parameters<typeof checkLossCase>[5],
) {
  const entry = c.sparse ? apis[0] : apis[1];
  checkLossCase(entry.api, entry.reference, c, label, ALL_REDUCTIONS, forms);
}

describe("crossentropy option matrix", () => {
  let seed = 100;
  for (const { name, sparse } of apis) {
    for (const fromLogits of [true, false]) {
      for (const optionSet of OPTION_SETS) {
        if (optionSet.sparseOnly && !sparse) continue;
        const testSeed = seed++;
        const input = fromLogits ? "logits" : "probabilities";
        test(`${name} ${input} ${optionSet.name}`, () => {
          const random = seededRandom(testSeed);
          CLASS_COUNTS.forEach((classes, index) => {
            const c = makeCase(
              random,
              sparse,
              fromLogits,
              BATCH,
              classes,
              optionSet,
            );
            check(c, `C=${classes}`, formsFor(index, sparse));
          });
        });
      }
    }
  }
});

describe("crossentropy shapes and axes", () => {
  test("axis 1 on [N, C, d1]", () => {
    const random = seededRandom(7);
    const shape = [2, 5, 3];
    for (const fromLogits of [true, false]) {
      const yPred = fromLogits
        ? uniform(random, 30, -4, 4)
        : Float64Array.from({ length: 30 }, () => Math.fround(0.01 + random()));
      const labels = integers(random, 6, 5);
      const options = {
        fromLogits,
        axis: 1,
        sampleWeight: [0.5, 2],
        labelSmoothing: 0.1,
      };
      const sparse: LossCase = {
        sparse: true,
        shape,
        yPred,
        target: labels,
        options,
      };
      check(sparse, `sparse fromLogits=${fromLogits}`, [
        "nested",
        "float32",
        "trailing",
      ]);

      // One-hot target laid out channels-first like yPred.
      const target = new Float64Array(30);
      for (let n = 0; n < 2; n++)
        for (let d = 0; d < 3; d++)
          target[n * 15 + labels[n * 3 + d] * 3 + d] = 1;
      const dense: LossCase = { sparse: false, shape, yPred, target, options };
      check(dense, `categorical fromLogits=${fromLogits}`, [
        "nested",
        "float64",
      ]);
    }
  });

  test("many rows across chunks", () => {
    // The library streams about 65536 values per chunk; these shapes span
    // several chunks, with the class axis last and in the middle.
    const random = seededRandom(13);
    for (const [shape, axis] of [
      [[20000, 9], -1],
      [[3, 5, 30000], 1],
      [[40, 7, 500], 1],
    ] as const) {
      const layout = ref.classLayout([...shape], axis);
      const n = layout.numLosses;
      const labels = integers(random, n, layout.numClasses).map((v, i) =>
        i % 11 === 5 ? -100 : v,
      );
      const options = {
        fromLogits: true,
        axis,
        ignoreClass: -100,
        labelSmoothing: 0.05,
        classWeights: uniform(random, layout.numClasses, 0.5, 2),
        sampleWeight: uniform(random, shape[0], 0, 2),
        mask: Array.from({ length: n }, (_, i) => (i % 7 === 3 ? 0 : 1)),
      };
      const c: LossCase = {
        sparse: true,
        shape: [...shape],
        yPred: uniform(random, ref.product(shape), -6, 6),
        target: labels,
        options,
      };
      check(c, `[${shape}] axis ${axis}`, ["float32"]);
      const probs: LossCase = {
        ...c,
        yPred: Float64Array.from(c.yPred, (v) => Math.fround(Math.exp(v / 3))),
        options: { ...options, fromLogits: false },
      };
      check(probs, `[${shape}] axis ${axis} probabilities`, ["float32"]);
    }
  });

  test("rank 3 token mask and sequence weight", () => {
    const random = seededRandom(8);
    const [batch, time, classes] = [3, 4, 6];
    const n = batch * time;
    for (const fromLogits of [true, false]) {
      const yPred = fromLogits
        ? uniform(random, n * classes, -4, 4)
        : probabilityRows(random, n, classes);
      const labels = integers(random, n, classes);
      const options = {
        fromLogits,
        mask: [1, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0],
        sampleWeight: [0.5, 2, 3],
      };
      const shape = [batch, time, classes];
      check(
        { sparse: true, shape, yPred, target: labels, options },
        `sparse fromLogits=${fromLogits}`,
        ["nested", "float32", "array", "trailing"],
      );
      check(
        {
          sparse: false,
          shape,
          yPred,
          target: oneHot(labels, classes),
          options,
        },
        `categorical fromLogits=${fromLogits}`,
        ["nested", "float32"],
      );
    }
  });

  test("rank 3 per-token weight", () => {
    const random = seededRandom(9);
    const shape = [2, 3, 4];
    const c: LossCase = {
      sparse: true,
      shape,
      yPred: uniform(random, 24, -3, 3),
      target: integers(random, 6, 4),
      options: { fromLogits: true, sampleWeight: uniform(random, 6, 0, 2) },
    };
    check(c, "per-token", ["nested", "float32", "float64"]);
  });

  test("single row without batch axis", () => {
    const c: LossCase = {
      sparse: false,
      shape: [4],
      yPred: ref.f32([0.5, -1, 2, 0]),
      target: [0, 0, 1, 0],
      options: { fromLogits: true },
    };
    check(c, "rank 1", ["nested", "float32"]);
  });

  test("empty batch gives zeros", () => {
    for (const { name, api } of apis) {
      const labels =
        name === "sparse" ? new Int32Array(0) : new Float32Array(0);
      const options = { fromLogits: true, shape: [0, 5] };
      const call = api as (t: unknown, y: Float32Array, o: object) => unknown;
      const none = call(labels, new Float32Array(0), options);
      expect(none, `${name} none`).toBeInstanceOf(Float32Array);
      expect((none as Float32Array).length, `${name} none length`).toBe(0);
      for (const reduction of [
        "sum",
        "mean",
        "mean_with_sample_weight",
      ] as const) {
        const value = call(labels, new Float32Array(0), {
          ...options,
          reduction,
        });
        expect(value, `${name} ${reduction}`).toBe(0);
      }
      const totals = call(labels, new Float32Array(0), {
        ...options,
        reduction: "totals",
      });
      expect(totals, `${name} totals`).toEqual({
        sum: 0,
        count: 0,
        weightSum: 0,
      });
    }
  });

  test("totals across chunks match whole", () => {
    const random = seededRandom(12);
    const [batch, classes] = [10, 7];
    const logits = uniform(random, batch * classes, -5, 5);
    const labels = integers(random, batch, classes);
    labels[4] = -100;
    const weights = uniform(random, batch, 0, 2);
    const mask = [1, 1, 0, 1, 1, 1, 1, 0, 1, 1];
    const common = {
      fromLogits: true,
      ignoreClass: -100,
      classWeights: uniform(random, classes, 0.5, 1.5),
      labelSmoothing: 0.05,
    };
    const bounds = [0, 3, 3, 8, 10];
    const total = { sum: 0, count: 0, weightSum: 0 };
    for (let k = 0; k + 1 < bounds.length; k++) {
      const [lo, hi] = [bounds[k], bounds[k + 1]];
      const part = sparseCategoricalCrossentropy(
        Int32Array.from(labels.slice(lo, hi)),
        Float32Array.from(logits.slice(lo * classes, hi * classes)),
        {
          ...common,
          shape: [hi - lo, classes],
          sampleWeight: Float32Array.from(weights.slice(lo, hi)),
          mask: Uint8Array.from(mask.slice(lo, hi)),
          reduction: "totals",
        },
      ) as { sum: number; count: number; weightSum: number };
      total.sum += part.sum;
      total.count += part.count;
      total.weightSum += part.weightSum;
    }
    const whole = { ...common, sampleWeight: weights, mask };
    const expected = ref.sparseCategoricalCrossentropy(
      labels,
      ref.tensor(logits, [batch, classes]),
      whole,
    );
    expectTotalsClose(total, expected.totals, "summed totals");
    for (const reduction of [
      "sum",
      "mean",
      "sum_over_batch_size",
      "mean_with_sample_weight",
    ] as const) {
      const unchunked = sparseCategoricalCrossentropy(
        Int32Array.from(labels),
        Float32Array.from(logits),
        { ...whole, shape: [batch, classes], reduction },
      );
      expectReductionClose(
        reduceTotals(total, reduction),
        unchunked as number,
        reduction,
      );
    }
  });
});

describe("crossentropy hard cases", () => {
  test("logits of plus or minus 1e30", () => {
    const yPred = ref.f32([1e30, -1e30, 0, -1e30, 1e30, 0, 1e30, 1e30, -1e30]);
    for (const labels of [
      [0, 0, 2],
      [2, 1, 0],
    ]) {
      const c: LossCase = {
        sparse: true,
        shape: [3, 3],
        yPred,
        target: labels,
        options: { fromLogits: true },
      };
      check(c, `labels ${labels}`, ["nested", "float32"]);
      check(
        { ...c, sparse: false, target: oneHot(labels, 3) },
        `one-hot ${labels}`,
        ["float32"],
      );
    }
  });

  test("-Infinity entries in included rows", () => {
    const yPred = Float64Array.from([
      -Infinity,
      1,
      2,
      0,
      -Infinity,
      -Infinity,
      3,
      -Infinity,
      3,
      4,
    ]);
    const c: LossCase = {
      sparse: true,
      shape: [2, 5],
      yPred,
      target: [2, 0],
      options: { fromLogits: true },
    };
    check(c, "sparse", ["nested", "float32"]);
    // A soft target that is 0 where the logit is -Infinity adds nothing there.
    const soft = [0, 0.5, 0.5, 0, 0, 0.25, 0, 0, 0.25, 0.5];
    check({ ...c, sparse: false, target: soft }, "soft", ["nested", "float32"]);
  });

  test("-Infinity target logit gives Infinity", () => {
    const c: LossCase = {
      sparse: true,
      shape: [1, 4],
      yPred: Float64Array.from([-Infinity, 0, 1, 2]),
      target: [0],
      options: { fromLogits: true },
    };
    const losses = toNumbers(
      sparseCategoricalCrossentropy([0], [[-Infinity, 0, 1, 2]], {
        fromLogits: true,
      }),
    );
    expect(losses[0]).toBe(Infinity);
    check(c, "label on -Infinity", ["float32"]);
  });

  test("all -Infinity included row", () => {
    // The reference gives NaN: lse is -Infinity and -Infinity - -Infinity is NaN.
    const c: LossCase = {
      sparse: true,
      shape: [2, 3],
      yPred: Float64Array.from([-Infinity, -Infinity, -Infinity, 0, 1, 2]),
      target: [1, 2],
      options: { fromLogits: true },
    };
    check(c, "included -Infinity row", ["nested", "float32"]);
  });

  test("-Infinity rows masked and ignored", () => {
    const row = [-Infinity, -Infinity, -Infinity, -Infinity];
    const yPred = Float64Array.from([
      ...row,
      1,
      2,
      3,
      4,
      ...row,
      0.5,
      0,
      -1,
      2,
    ]);
    const labels = [0, 3, -100, 1];
    const c: LossCase = {
      sparse: true,
      shape: [4, 4],
      yPred,
      target: labels,
      options: { fromLogits: true, ignoreClass: -100, mask: [0, 1, 1, 1] },
    };
    check(c, "masked and ignored", ["nested", "float32", "float64"]);
    const dense: LossCase = {
      sparse: false,
      shape: [4, 4],
      yPred,
      target: oneHot([0, 3, 0, 1], 4),
      options: { fromLogits: true, mask: [0, 1, 0, 1] },
    };
    check(dense, "masked categorical", ["nested", "float32"]);
  });

  test("probabilities exactly 0 and 1", () => {
    const yPred = Float64Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1, 0.5, 0.5, 0]);
    const labels = [0, 0, 2, 2];
    const c: LossCase = {
      sparse: true,
      shape: [4, 3],
      yPred,
      target: labels,
      options: {},
    };
    check(c, "sparse", ["nested", "float32"]);
    check({ ...c, options: { labelSmoothing: 0.1 } }, "smoothed", ["float32"]);
    check({ ...c, sparse: false, target: oneHot(labels, 3) }, "one-hot", [
      "nested",
      "float64",
    ]);
  });

  test("unnormalized probabilities rescaled", () => {
    const c: LossCase = {
      sparse: false,
      shape: [2, 3],
      yPred: Float64Array.from([2, 6, 2, 0.1, 0.1, 0.2]),
      target: [0.2, 0.5, 0.3, 0, 0, 1],
      options: {},
    };
    check(c, "rescaled", ["nested", "float32"]);
  });

  test("one row of 262144 classes", () => {
    const random = seededRandom(31);
    const classes = 262144;
    const logits = uniform(random, classes, -10, 10);
    const probs = probabilityRows(random, 1, classes);
    for (const [fromLogits, yPred] of [
      [true, logits],
      [false, probs],
    ] as const) {
      const c: LossCase = {
        sparse: true,
        shape: [1, classes],
        yPred,
        target: [123457],
        options: { fromLogits, labelSmoothing: 0.1 },
      };
      check(c, `fromLogits=${fromLogits}`, ["float32"]);
    }
  });

  test("confident prediction", () => {
    for (const classes of [2, 10, 1000]) {
      const yPred = new Float64Array(2 * classes);
      yPred[0] = 20;
      yPred[classes + 1] = 20;
      const c: LossCase = {
        sparse: true,
        shape: [2, classes],
        yPred,
        target: [0, 0],
        options: { fromLogits: true },
      };
      check(c, `C=${classes}`, ["float32"]);
    }
  });

  test("labels of every integer type", () => {
    const random = seededRandom(41);
    const logits = Float32Array.from(uniform(random, 12, -2, 2));
    const labels = [2, 0, 1, 2];
    const expected = ref.sparseCategoricalCrossentropy(
      labels,
      ref.tensor(logits, [4, 3]),
      { fromLogits: true },
    ).losses;
    const forms = [
      labels,
      Int8Array.from(labels),
      Uint8Array.from(labels),
      Int16Array.from(labels),
      Uint16Array.from(labels),
      Int32Array.from(labels),
      Uint32Array.from(labels),
      BigInt64Array.from(labels, BigInt),
      BigUint64Array.from(labels, BigInt),
      Float32Array.from(labels),
      Float64Array.from(labels),
    ];
    for (const form of forms) {
      const losses = sparseCategoricalCrossentropy(form, logits, {
        fromLogits: true,
        shape: [4, 3],
      });
      expectElementsClose(losses, expected, form.constructor.name);
    }
  });

  test("nested and flat inputs agree", () => {
    const random = seededRandom(42);
    const logits = uniform(random, 15, -3, 3);
    const labels = [4, 0, 2];
    const shape = [3, 5];
    const expected = ref.sparseCategoricalCrossentropy(
      labels,
      ref.tensor(logits, shape),
      {
        fromLogits: true,
      },
    ).losses;
    const nested = ref.nest(logits, shape);
    for (const [name, yPred, options] of [
      ["nested", nested, {}],
      ["Float32Array", Float32Array.from(logits), { shape }],
      ["Float64Array", Float64Array.from(logits), { shape }],
      ["number[]", Array.from(logits), { shape }],
    ] as const) {
      const losses = sparseCategoricalCrossentropy(labels, yPred, {
        fromLogits: true,
        ...options,
      });
      expectElementsClose(losses, expected, name);
    }
  });

  test("weights of zero and masks of booleans", () => {
    const random = seededRandom(43);
    const c: LossCase = {
      sparse: true,
      shape: [4, 3],
      yPred: uniform(random, 12, -2, 2),
      target: [0, 1, 2, 0],
      options: {
        fromLogits: true,
        sampleWeight: [0, 1, 0, 2],
        classWeights: [0, 1, 1],
      },
    };
    check(c, "zero weights", ["nested", "float32"]);
    const withBooleans = sparseCategoricalCrossentropy(
      [0, 1, 2, 0],
      ref.nest(c.yPred, c.shape),
      { fromLogits: true, mask: [true, false, true, true], reduction: "mean" },
    );
    const expected = ref.sparseCategoricalCrossentropy(
      [0, 1, 2, 0],
      ref.tensor(c.yPred, c.shape),
      { fromLogits: true, mask: [1, 0, 1, 1] },
    );
    expectReductionClose(
      withBooleans,
      ref.reduceTotals(expected.totals, "mean"),
      "boolean mask",
    );
  });
});
