/**
 * categoricalFocalCrossentropy and sparseCategoricalFocalCrossentropy
 * against the float64 reference.
 *
 * Tolerances: every per-row loss within rtol 1e-5 of max(1, |reference|)
 * (so atol 1e-5 below 1), every reduction within rtol 1e-6.
 */
import { describe, expect, test } from "vitest";

import {
  categoricalCrossentropy,
  categoricalFocalCrossentropy,
  sparseCategoricalCrossentropy,
  sparseCategoricalFocalCrossentropy,
} from "../src/index.js";
import * as ref from "./reference.js";
import {
  ALL_REDUCTIONS,
  CLASS_COUNTS,
  OPTION_SETS,
  checkLossCase,
  expectElementsClose,
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
    name: "sparse focal",
    sparse: true,
    api: sparseCategoricalFocalCrossentropy,
    reference: ref.sparseCategoricalFocalCrossentropy,
  },
  {
    name: "categorical focal",
    sparse: false,
    api: categoricalFocalCrossentropy,
    reference: (t: ArrayLike<number>, y: ref.Tensor, o: ref.RefOptions) =>
      ref.categoricalFocalCrossentropy(ref.tensor(t, y.shape), y, o),
  },
];

function check(
  c: LossCase,
  label: string,
  forms?: Parameters<typeof checkLossCase>[5],
) {
  const entry = c.sparse ? apis[0] : apis[1];
  checkLossCase(entry.api, entry.reference, c, label, ALL_REDUCTIONS, forms);
}

/** Focal settings crossed with the option matrix. */
const focalSettings = [
  { name: "defaults", build: () => ({}) },
  { name: "gamma 0 alpha 1", build: () => ({ gamma: 0, alpha: 1 }) },
  { name: "gamma 2 alpha 0.5", build: () => ({ gamma: 2, alpha: 0.5 }) },
  {
    name: "gamma 1.5 alpha list",
    build: (random: () => number, classes: number) => ({
      gamma: 1.5,
      alpha: uniform(random, classes, 0.1, 1),
    }),
  },
];

describe("focal option matrix", () => {
  let seed = 500;
  for (const { name, sparse } of apis) {
    for (const fromLogits of [true, false]) {
      for (const optionSet of OPTION_SETS) {
        if (optionSet.sparseOnly && !sparse) continue;
        const testSeed = seed++;
        const input = fromLogits ? "logits" : "probabilities";
        test(`${name} ${input} ${optionSet.name}`, () => {
          const random = seededRandom(testSeed);
          CLASS_COUNTS.forEach((classes, index) => {
            const setting = focalSettings[index % focalSettings.length];
            const c = makeCase(
              random,
              sparse,
              fromLogits,
              BATCH,
              classes,
              optionSet,
            );
            c.options = { ...c.options, ...setting.build(random, classes) };
            check(c, `C=${classes} ${setting.name}`, formsFor(index, sparse));
          });
        });
      }
    }
  }
});

describe("focal settings", () => {
  for (const setting of focalSettings) {
    test(`every class count ${setting.name}`, () => {
      const random = seededRandom(600);
      for (const classes of CLASS_COUNTS) {
        for (const fromLogits of [true, false]) {
          const c = makeCase(
            random,
            true,
            fromLogits,
            BATCH,
            classes,
            OPTION_SETS[0],
          );
          c.options = { ...c.options, ...setting.build(random, classes) };
          check(c, `C=${classes} fromLogits=${fromLogits}`, ["float32"]);
        }
      }
    });
  }

  test("gamma 0 alpha 1 equals crossentropy", () => {
    const random = seededRandom(601);
    const logits = Float32Array.from(uniform(random, 5 * 9, -4, 4));
    const probs = Float32Array.from(probabilityRows(random, 5, 9));
    const labels = Int32Array.from(integers(random, 5, 9));
    const target = Float32Array.from(oneHot(labels, 9));
    for (const [fromLogits, yPred] of [
      [true, logits],
      [false, probs],
    ] as const) {
      const options = {
        fromLogits,
        shape: [5, 9],
        labelSmoothing: 0.1,
        classWeights: uniform(random, 9, 0.5, 2),
      };
      const focal = { ...options, gamma: 0, alpha: 1 };
      expectElementsClose(
        sparseCategoricalFocalCrossentropy(labels, yPred, focal),
        toNumbers(sparseCategoricalCrossentropy(labels, yPred, options)),
        `sparse fromLogits=${fromLogits}`,
      );
      expectElementsClose(
        categoricalFocalCrossentropy(target, yPred, focal),
        toNumbers(categoricalCrossentropy(target, yPred, options)),
        `categorical fromLogits=${fromLogits}`,
      );
    }
  });

  test("default alpha and gamma", () => {
    // p = [0.2, 0.8], label 1: -0.25 * (1 - 0.8)^2 * log 0.8.
    const losses = toNumbers(
      sparseCategoricalFocalCrossentropy([1], [[0.2, 0.8]]),
    );
    expectElementsClose(losses, [-0.25 * 0.04 * Math.log(0.8)], "defaults");
  });

  test("axis 1 and rank 3", () => {
    const random = seededRandom(602);
    const labels = integers(random, 6, 4);
    const axisCase: LossCase = {
      sparse: true,
      shape: [2, 4, 3],
      yPred: uniform(random, 24, -3, 3),
      target: labels,
      options: {
        fromLogits: true,
        axis: 1,
        alpha: [0.1, 0.2, 0.3, 0.4],
        gamma: 2,
      },
    };
    check(axisCase, "axis 1", ["nested", "float32"]);
    const tokens: LossCase = {
      sparse: false,
      shape: [2, 3, 4],
      yPred: probabilityRows(random, 6, 4),
      target: oneHot(labels, 4),
      options: { mask: [1, 0, 1, 1, 1, 0], sampleWeight: [2, 0.5], gamma: 2 },
    };
    check(tokens, "rank 3", ["nested", "float32"]);
  });
});

describe("focal hard cases", () => {
  test("logits of plus or minus 1e30", () => {
    const c: LossCase = {
      sparse: true,
      shape: [3, 3],
      yPred: ref.f32([1e30, -1e30, 0, -1e30, 1e30, 0, 1e30, 1e30, -1e30]),
      target: [0, 0, 2],
      options: { fromLogits: true, gamma: 2, alpha: 0.25 },
    };
    check(c, "1e30", ["nested", "float32"]);
  });

  test("-Infinity entries and masked rows", () => {
    const row = [-Infinity, -Infinity, -Infinity];
    const c: LossCase = {
      sparse: true,
      shape: [3, 3],
      yPred: Float64Array.from([...row, -Infinity, 1, 2, 0, 0, -Infinity]),
      target: [0, 2, 1],
      options: { fromLogits: true, mask: [0, 1, 1] },
    };
    check(c, "masked -Infinity row", ["nested", "float32"]);
  });

  test("probabilities exactly 0 and 1", () => {
    const c: LossCase = {
      sparse: true,
      shape: [3, 3],
      yPred: Float64Array.from([1, 0, 0, 0, 1, 0, 0, 0, 0]),
      target: [0, 0, 2],
      options: { gamma: 2, alpha: [0.3, 0.3, 0.4] },
    };
    check(c, "0 and 1", ["nested", "float32"]);
    check({ ...c, options: { gamma: 0, alpha: 1 } }, "gamma 0", ["float32"]);
  });

  test("tiny probability from logits unclipped", () => {
    // log p of the label is about -25, far below log 1e-7, and is not clipped.
    const c: LossCase = {
      sparse: true,
      shape: [2, 3],
      yPred: ref.f32([20, 0, -5, -30, 0, 1]),
      target: [2, 0],
      options: { fromLogits: true, gamma: 2, alpha: 1 },
    };
    check(c, "tiny p", ["nested", "float32"]);
  });

  test("confident prediction", () => {
    const yPred = new Float64Array(2 * 50);
    yPred[0] = 20;
    yPred[51] = -20;
    const c: LossCase = {
      sparse: true,
      shape: [2, 50],
      yPred,
      target: [0, 1],
      options: { fromLogits: true },
    };
    check(c, "confident", ["float32"]);
  });

  test("one row of 262144 classes", () => {
    const random = seededRandom(603);
    const classes = 262144;
    const c: LossCase = {
      sparse: true,
      shape: [1, classes],
      yPred: uniform(random, classes, -8, 8),
      target: [9],
      options: { fromLogits: true, labelSmoothing: 0.1, gamma: 2 },
    };
    check(c, "262144", ["float32"]);
  });

  test("empty batch gives zeros", () => {
    const options = {
      fromLogits: true,
      shape: [0, 4],
      reduction: "mean",
    } as const;
    expect(
      sparseCategoricalFocalCrossentropy(
        new Int32Array(0),
        new Float32Array(0),
        options,
      ),
    ).toBe(0);
    expect(
      categoricalFocalCrossentropy(
        new Float32Array(0),
        new Float32Array(0),
        options,
      ),
    ).toBe(0);
  });
});
