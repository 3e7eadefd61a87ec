/**
 * The *WithGrad functions against the float64 reference.
 *
 * The reference gradient is analytic; each case first checks it against
 * central finite differences of the reference loss in float64 (step
 * 1e-5 * max(1, |x|) for logits, 1e-7 for probabilities, tolerance 1e-6 * max(1, |g|), because the difference
 * quotient is accurate to about 1e-10 on these inputs). Then every library
 * gradient element must be within 1e-5 * max(1, |reference|), per-row losses
 * within the same, and reduced losses within rtol 1e-6.
 */
import { describe, expect, test } from "vitest";

import {
  categoricalCrossentropy,
  categoricalCrossentropyWithGrad,
  categoricalFocalCrossentropy,
  categoricalFocalCrossentropyWithGrad,
  sparseCategoricalCrossentropy,
  sparseCategoricalCrossentropyWithGrad,
  sparseCategoricalFocalCrossentropy,
  sparseCategoricalFocalCrossentropyWithGrad,
} from "../src/index.js";
import * as ref from "./reference.js";
import {
  OPTION_SETS,
  expectElementsClose,
  expectReductionClose,
  expectZeros,
  integers,
  libraryArguments,
  oneHot,
  probabilityRows,
  seededRandom,
  softTargets,
  toNumbers,
  uniform,
  type LossCase,
} from "./helpers.js";

/** Finite-difference steps: relative for logits, absolute for probabilities (all below 1). */
const FD_STEP_LOGITS = 1e-5;
const FD_STEP_PROBABILITIES = 1e-7;
const FD_TOL = 1e-6;

type GradReduction =
  "none" | "sum" | "sum_over_batch_size" | "mean" | "mean_with_sample_weight";
const REDUCTIONS: readonly GradReduction[] = [
  "none",
  "sum",
  "sum_over_batch_size",
  "mean",
  "mean_with_sample_weight",
];

interface Api {
  name: string;
  sparse: boolean;
  focal: boolean;
  withGrad: (
    target: any,
    yPred: any,
    options?: any,
  ) => { loss: unknown; grad: unknown };
  forward: (target: any, yPred: any, options?: any) => unknown;
}

const apis: readonly Api[] = [
  {
    name: "sparse",
    sparse: true,
    focal: false,
    withGrad: sparseCategoricalCrossentropyWithGrad as Api["withGrad"],
    forward: sparseCategoricalCrossentropy,
  },
  {
    name: "categorical",
    sparse: false,
    focal: false,
    withGrad: categoricalCrossentropyWithGrad as Api["withGrad"],
    forward: categoricalCrossentropy,
  },
  {
    name: "sparse focal",
    sparse: true,
    focal: true,
    withGrad: sparseCategoricalFocalCrossentropyWithGrad as Api["withGrad"],
    forward: sparseCategoricalFocalCrossentropy,
  },
  {
    name: "categorical focal",
    sparse: false,
    focal: true,
    withGrad: categoricalFocalCrossentropyWithGrad as Api["withGrad"],
    forward: categoricalFocalCrossentropy,
  },
];

function referenceLoss(c: LossCase, focal: boolean) {
  return (t: ref.Tensor) => {
    if (c.sparse) {
      return focal
        ? ref.sparseCategoricalFocalCrossentropy(c.target, t, c.options)
        : ref.sparseCategoricalCrossentropy(c.target, t, c.options);
    }
    const yTrue = ref.tensor(c.target, c.shape);
    return focal
      ? ref.categoricalFocalCrossentropy(yTrue, t, c.options)
      : ref.categoricalCrossentropy(yTrue, t, c.options);
  };
}

function referenceGrad(
  c: LossCase,
  focal: boolean,
  reduction: GradReduction,
  dy?: ArrayLike<number>,
) {
  const yPred = ref.tensor(c.yPred, c.shape);
  const options = { ...c.options, reduction, dy };
  return c.sparse
    ? ref.sparseCategoricalCrossentropyWithGrad(c.target, yPred, options, focal)
    : ref.categoricalCrossentropyWithGrad(
        ref.tensor(c.target, c.shape),
        yPred,
        options,
        focal,
      );
}

/**
 * Checks one case for every reduction: the reference gradient against finite
 * differences (when `finite` is set), then the library's loss and gradient.
 */
function checkGradCase(
  api: Api,
  c: LossCase,
  label: string,
  forms: ("nested" | "float32")[] = ["nested", "float32"],
  finite = true,
) {
  const numLosses = ref.classLayout(c.shape, c.options.axis).numLosses;
  const dy = Float64Array.from({ length: numLosses }, (_, i) =>
    Math.fround(((i % 4) - 1.5) * 0.75),
  );
  for (const reduction of REDUCTIONS) {
    const upstream = reduction === "none" ? dy : undefined;
    const expected = referenceGrad(c, api.focal, reduction, upstream);
    const where = `${label} ${reduction}`;
    // Finite differences for two reductions: the others scale the same sum.
    if (
      finite &&
      (reduction === "none" || reduction === "mean_with_sample_weight")
    ) {
      const f = ref.objective(
        referenceLoss(c, api.focal),
        c.shape,
        reduction,
        upstream,
      );
      const step = c.options.fromLogits
        ? FD_STEP_LOGITS
        : FD_STEP_PROBABILITIES;
      const numeric = ref.finiteDifference(f, c.yPred, step);
      expectElementsClose(
        expected.grad,
        numeric,
        `${where} reference vs finite differences`,
        FD_TOL,
      );
    }
    for (const form of forms) {
      const args = libraryArguments(c, form);
      const options: Record<string, unknown> = { ...args.options, reduction };
      if (upstream !== undefined) {
        options.dy =
          form === "nested"
            ? ref.nest(upstream, args.lossShape)
            : Float32Array.from(upstream);
      }
      const result = api.withGrad(args.target, args.yPred, options);
      const forward = api.forward(args.target, args.yPred, {
        ...args.options,
        reduction,
      });
      if (reduction === "none") {
        expectElementsClose(
          result.loss,
          expected.loss as Float64Array,
          `${where} ${form} loss`,
        );
        expectElementsClose(
          result.loss,
          toNumbers(forward),
          `${where} ${form} loss vs forward`,
          1e-6,
        );
      } else {
        expectReductionClose(
          result.loss,
          expected.loss as number,
          `${where} ${form} loss`,
        );
        expectReductionClose(
          result.loss,
          forward as number,
          `${where} ${form} loss vs forward`,
        );
      }
      if (form === "nested") {
        expect(
          ref.shapeOf(result.grad as ref.Nested),
          `${where} grad shape`,
        ).toEqual(c.shape);
      } else {
        expect(result.grad, `${where} grad type`).toBeInstanceOf(Float32Array);
      }
      expectElementsClose(result.grad, expected.grad, `${where} ${form} grad`);
    }
  }
}

/** Builds a [batch, classes] case with probabilities away from the clip, so finite differences are smooth. */
function gradCase(
  random: () => number,
  api: Api,
  fromLogits: boolean,
  batch: number,
  classes: number,
  optionSet: (typeof OPTION_SETS)[number],
): LossCase {
  const labels = integers(random, batch, classes);
  const yPred = fromLogits
    ? uniform(random, batch * classes, -4, 4)
    : probabilityRows(random, batch, classes);
  const options = optionSet.build(random, batch, classes, labels);
  if (!api.sparse) delete options.ignoreClass;
  let target: ArrayLike<number> = labels;
  if (!api.sparse) {
    const hard = oneHot(labels, classes);
    const soft = softTargets(random, batch, classes);
    target = soft.map((v, i) =>
      Math.floor(i / classes) % 2 === 0 ? hard[i] : v,
    );
  }
  return {
    sparse: api.sparse,
    shape: [batch, classes],
    yPred,
    target,
    options: { ...options, fromLogits },
  };
}

const GRAD_CLASS_COUNTS = [1, 2, 3, 5, 8, 17];
const focalSettings = [
  { gamma: 2 },
  { gamma: 0, alpha: 1 },
  { gamma: 2, alpha: "list" as const },
  { gamma: 0, alpha: 0.4 },
];

describe("gradient option matrix", () => {
  let seed = 900;
  for (const api of apis) {
    for (const fromLogits of [true, false]) {
      for (const optionSet of OPTION_SETS) {
        if (optionSet.sparseOnly && !api.sparse) continue;
        const testSeed = seed++;
        const input = fromLogits ? "logits" : "probabilities";
        test(`${api.name} ${input} ${optionSet.name}`, () => {
          const random = seededRandom(testSeed);
          GRAD_CLASS_COUNTS.forEach((classes, index) => {
            const c = gradCase(random, api, fromLogits, 5, classes, optionSet);
            let label = `C=${classes}`;
            if (api.focal) {
              const setting = focalSettings[index % focalSettings.length];
              const alpha =
                setting.alpha === "list"
                  ? uniform(random, classes, 0.1, 1)
                  : setting.alpha;
              c.options = { ...c.options, gamma: setting.gamma, alpha };
              label += ` gamma=${setting.gamma} alpha=${setting.alpha ?? "default"}`;
            }
            checkGradCase(
              api,
              c,
              label,
              index % 2 === 0 ? ["nested", "float32"] : ["float32"],
            );
          });
        });
      }
    }
  }
});

describe("gradient shapes", () => {
  for (const api of apis) {
    test(`${api.name} axis 1`, () => {
      const random = seededRandom(950);
      const shape = [2, 4, 3];
      for (const fromLogits of [true, false]) {
        const labels = integers(random, 6, 4);
        const yPred = fromLogits
          ? uniform(random, 24, -3, 3)
          : Float64Array.from({ length: 24 }, () =>
              Math.fround(0.05 + random()),
            );
        let target: ArrayLike<number> = labels;
        if (!api.sparse) {
          const t = new Float64Array(24);
          for (let n = 0; n < 2; n++)
            for (let d = 0; d < 3; d++)
              t[n * 12 + labels[n * 3 + d] * 3 + d] = 1;
          target = t;
        }
        const c: LossCase = {
          sparse: api.sparse,
          shape,
          yPred,
          target,
          options: {
            fromLogits,
            axis: 1,
            sampleWeight: [2, 0.5],
            labelSmoothing: 0.1,
          },
        };
        checkGradCase(api, c, `fromLogits=${fromLogits}`);
      }
    });

    test(`${api.name} rank 3 with mask`, () => {
      const random = seededRandom(951);
      const [batch, time, classes] = [2, 3, 5];
      const labels = integers(random, batch * time, classes);
      const c: LossCase = {
        sparse: api.sparse,
        shape: [batch, time, classes],
        yPred: uniform(random, batch * time * classes, -3, 3),
        target: api.sparse ? labels : oneHot(labels, classes),
        options: {
          fromLogits: true,
          mask: [1, 0, 1, 1, 1, 0],
          sampleWeight: [0.5, 2],
        },
      };
      checkGradCase(api, c, "rank 3");
    });
  }
});

describe("gradient hard cases", () => {
  const [sparse, dense] = [apis[0], apis[1]];

  test("sparse equals one-hot", () => {
    const random = seededRandom(960);
    for (const [s, d] of [
      [apis[0], apis[1]],
      [apis[2], apis[3]],
    ]) {
      for (const fromLogits of [true, false]) {
        const classes = 9;
        const labels = Int32Array.from(integers(random, 6, classes));
        const yPred = Float32Array.from(
          fromLogits
            ? uniform(random, 6 * classes, -4, 4)
            : probabilityRows(random, 6, classes),
        );
        const options = {
          fromLogits,
          shape: [6, classes],
          labelSmoothing: 0.15,
          classWeights: uniform(random, classes, 0.2, 2),
          sampleWeight: uniform(random, 6, 0, 2),
          mask: [1, 1, 0, 1, 1, 1],
          reduction: "mean_with_sample_weight",
          ...(s.focal ? { alpha: uniform(random, classes, 0.1, 1) } : {}),
        };
        const a = s.withGrad(labels, yPred, options);
        const b = d.withGrad(
          Float32Array.from(oneHot(labels, classes)),
          yPred,
          options,
        );
        const label = `${s.name} fromLogits=${fromLogits}`;
        expectReductionClose(a.loss, b.loss as number, `${label} loss`);
        expectElementsClose(a.grad, toNumbers(b.grad), `${label} grad`);
      }
    }
  });

  test("confident prediction target gradient", () => {
    for (const classes of [2, 10, 1000]) {
      const logits = new Float32Array(classes);
      logits[3 % classes] = 20;
      const label = 3 % classes;
      const expected = ref.sparseCategoricalCrossentropyWithGrad(
        [label],
        ref.tensor(logits, [1, classes]),
        { fromLogits: true, reduction: "sum" },
      );
      const { grad } = sparse.withGrad(Int32Array.of(label), logits, {
        fromLogits: true,
        shape: [1, classes],
        reduction: "sum",
      });
      const g = grad as Float32Array;
      expectElementsClose(g, expected.grad, `C=${classes}`);
      // The target gradient is about -(C - 1) e^-20. It must keep its
      // relative accuracy instead of rounding to 0 as 1 - softmax would.
      const target = expected.grad[label];
      expect(
        Math.abs(g[label] - target),
        `C=${classes} target grad ${g[label]} vs ${target}`,
      ).toBeLessThanOrEqual(1e-3 * Math.abs(target));
      const other = expected.grad[(label + 1) % classes];
      expect(
        Math.abs(g[(label + 1) % classes] - other),
        `C=${classes} other grad ${g[(label + 1) % classes]} vs ${other}`,
      ).toBeLessThanOrEqual(1e-3 * Math.abs(other));
    }
  });

  test("saturated logits loss and gradient", () => {
    for (const [reduction, weight, scale] of [
      ["sum", 1, 1],
      ["mean", 1, 1],
      ["sum", 0.5, 0.5],
      ["mean_with_sample_weight", 0.5, 1],
    ] as const) {
      const result = sparse.withGrad([1], [[100, -100]], {
        fromLogits: true,
        reduction,
        sampleWeight: [weight],
      });
      expectReductionClose(
        result.loss,
        (200 * weight) / (reduction === "mean_with_sample_weight" ? weight : 1),
        `${reduction} loss`,
      );
      const grad = toNumbers(result.grad);
      expect(grad.some(Number.isNaN), `${reduction} NaN`).toBe(false);
      expectElementsClose(grad, [scale, -scale], `${reduction} grad`);
    }
  });

  test("axis 1 across chunks gradient", () => {
    // Spans several of the library's 65536-value chunks with a middle class axis.
    const random = seededRandom(965);
    for (const shape of [
      [3, 5, 30000],
      [40, 7, 500],
    ]) {
      const layout = ref.classLayout(shape, 1);
      const labels = integers(random, layout.numLosses, layout.numClasses);
      const logits = uniform(random, ref.product(shape), -6, 6);
      const options = {
        fromLogits: true,
        axis: 1,
        sampleWeight: uniform(random, shape[0], 0, 2),
        mask: Array.from({ length: layout.numLosses }, (_, i) =>
          i % 5 === 2 ? 0 : 1,
        ),
        reduction: "mean_with_sample_weight" as const,
      };
      for (const api of [apis[0], apis[2]]) {
        const result = api.withGrad(
          Int32Array.from(labels),
          Float32Array.from(logits),
          {
            ...options,
            shape,
            sampleWeight: Float32Array.from(options.sampleWeight),
            mask: Uint8Array.from(options.mask),
          },
        );
        const expected = ref.sparseCategoricalCrossentropyWithGrad(
          labels,
          ref.tensor(logits, shape),
          options,
          api.focal,
        );
        expectReductionClose(
          result.loss,
          expected.loss as number,
          `${api.name} [${shape}] loss`,
        );
        expectElementsClose(
          result.grad,
          expected.grad,
          `${api.name} [${shape}] grad`,
        );
      }
    }
  });

  test("logits of 1e30 gradient", () => {
    const logits = [
      [1e30, -1e30, 0],
      [-1e30, 1e30, 1e30],
    ];
    const result = sparse.withGrad([1, 0], logits, {
      fromLogits: true,
      reduction: "sum",
    });
    expectReductionClose(result.loss, 2e30 + 2e30 + Math.LN2, "loss");
    expectElementsClose(result.grad, [1, -1, 0, -1, 0.5, 0.5], "grad");
  });

  test("one row of 262144 gradient", () => {
    const random = seededRandom(964);
    const classes = 262144;
    const logits = uniform(random, classes, -10, 10);
    for (const api of [apis[0], apis[2]]) {
      const result = api.withGrad(
        Int32Array.of(777),
        Float32Array.from(logits),
        {
          fromLogits: true,
          shape: [1, classes],
          labelSmoothing: 0.1,
          reduction: "sum",
        },
      );
      const expected = ref.sparseCategoricalCrossentropyWithGrad(
        [777],
        ref.tensor(logits, [1, classes]),
        { fromLogits: true, labelSmoothing: 0.1, reduction: "sum" },
        api.focal,
      );
      expectReductionClose(
        result.loss,
        expected.loss as number,
        `${api.name} loss`,
      );
      expectElementsClose(result.grad, expected.grad, `${api.name} grad`);
    }
  });

  test("ignored -Infinity row zero gradient", () => {
    const random = seededRandom(961);
    const row = [-Infinity, -Infinity, -Infinity, -Infinity];
    const good = uniform(random, 8, -2, 2);
    const yPred = Float32Array.from([
      ...good.slice(0, 4),
      ...row,
      ...good.slice(4),
    ]);
    for (const reduction of [
      "none",
      "sum",
      "mean",
      "mean_with_sample_weight",
    ] as const) {
      const result = sparse.withGrad(Int32Array.of(1, -100, 3), yPred, {
        fromLogits: true,
        ignoreClass: -100,
        shape: [3, 4],
        reduction,
      });
      const grad = toNumbers(result.grad);
      expectZeros(grad.slice(4, 8), `${reduction} ignored row`);
      const expected = ref.sparseCategoricalCrossentropyWithGrad(
        [1, 3],
        ref.tensor(good, [2, 4]),
        { fromLogits: true, reduction },
      );
      expectElementsClose(
        [...grad.slice(0, 4), ...grad.slice(8)],
        expected.grad,
        `${reduction} other rows`,
      );
    }
  });

  test("masked NaN row zero gradient", () => {
    const yPred = [
      [NaN, 1, 2],
      [0.5, -Infinity, 1],
      [1, 2, 3],
    ];
    const result = dense.withGrad(
      [
        [1, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
      ],
      yPred,
      {
        fromLogits: true,
        mask: [0, 0, 1],
        reduction: "sum",
      },
    );
    const grad = toNumbers(result.grad);
    expectZeros(grad.slice(0, 6), "masked rows");
    const expected = ref.sparseCategoricalCrossentropyWithGrad(
      [2],
      ref.tensor([[1, 2, 3]]),
      {
        fromLogits: true,
        reduction: "sum",
      },
    );
    expectElementsClose(grad.slice(6), expected.grad, "included row");
  });

  test("clipped probabilities gradient", () => {
    // Exact zeros and ones put the clip in force; no finite differences here.
    const c: LossCase = {
      sparse: true,
      shape: [3, 3],
      yPred: Float64Array.from([1, 0, 0, 0.5, 0.5, 0, 0.2, 0.3, 0.5]),
      target: [0, 2, 1],
      options: { fromLogits: false, labelSmoothing: 0.1 },
    };
    checkGradCase(sparse, c, "clipped", ["float32"], false);
    checkGradCase(apis[2], c, "clipped focal", ["float32"], false);
  });

  test("dy scales each loss", () => {
    const random = seededRandom(962);
    const logits = Float32Array.from(uniform(random, 12, -2, 2));
    const labels = Int32Array.of(0, 1, 2, 1);
    const dy = Float32Array.of(1, 0, -2, 0.5);
    const result = sparse.withGrad(labels, logits, {
      fromLogits: true,
      shape: [4, 3],
      dy,
    });
    const expected = ref.sparseCategoricalCrossentropyWithGrad(
      labels,
      ref.tensor(logits, [4, 3]),
      {
        fromLogits: true,
        dy,
      },
    );
    expectElementsClose(result.grad, expected.grad, "grad");
    expectZeros(toNumbers(result.grad).slice(3, 6), "dy 0 row");
    expectElementsClose(result.loss, expected.loss as Float64Array, "loss");
  });

  test("out buffer reused and returned", () => {
    const random = seededRandom(963);
    const out = new Float32Array(15);
    for (const api of apis) {
      for (let call = 0; call < 2; call++) {
        const logits = Float32Array.from(uniform(random, 15, -3, 3));
        const labels = integers(random, 3, 5);
        const target = api.sparse
          ? Int32Array.from(labels)
          : Float32Array.from(oneHot(labels, 5));
        const result = api.withGrad(target, logits, {
          fromLogits: true,
          shape: [3, 5],
          reduction: "mean",
          out,
        });
        expect(result.grad, `${api.name} call ${call}`).toBe(out);
        const expected = ref.sparseCategoricalCrossentropyWithGrad(
          labels,
          ref.tensor(logits, [3, 5]),
          { fromLogits: true, reduction: "mean" },
          api.focal,
        );
        expectElementsClose(out, expected.grad, `${api.name} call ${call}`);
      }
    }
  });
});
