/**
 * Property tests with fast-check over random shapes, values and options.
 *
 * fast-check draws the structure (class count, batch, options, row kinds) and
 * a seed; the values come from a seeded generator so runs stay small. Every
 * run is seeded, so a failure reproduces. Tolerances: elements within
 * 1e-5 * max(1, |expected|), reductions within rtol 1e-6.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";

import {
  categoricalCrossentropy,
  categoricalFocalCrossentropy,
  logSoftmax,
  logSumExp,
  reduceTotals,
  softmax,
  sparseCategoricalCrossentropy,
  sparseCategoricalFocalCrossentropy,
} from "../src/index.js";
import * as ref from "./reference.js";
import {
  expectElementsClose,
  expectReductionClose,
  expectTotalsClose,
  oneHot,
  seededRandom,
  toNumbers,
} from "./helpers.js";

fc.configureGlobal({ seed: 20250611, numRuns: 60 });

const CLASSES = [1, 2, 3, 4, 5, 8, 9, 17, 1000, 32000];
/** Upper bound on batch * classes per run, to keep the suite fast. */
const MAX_ELEMENTS = 40000;
const REDUCTIONS = [
  "none",
  "sum",
  "sum_over_batch_size",
  "mean",
  "mean_with_sample_weight",
  "totals",
] as const;

/** How one row's values are drawn. */
type RowKind =
  "normal" | "huge" | "negInf" | "allNegInf" | "zeros" | "oneHot" | "allZero";

interface Problem {
  classes: number;
  batch: number;
  fromLogits: boolean;
  seed: number;
  rowKinds: RowKind[];
  labelSmoothing: number;
  useClassWeights: boolean;
  sampleWeight: "none" | "scalar" | "row";
  useMask: boolean;
  ignoreClass: number | undefined;
  reduction: (typeof REDUCTIONS)[number];
  alpha: "default" | "scalar" | "list";
  gamma: number;
}

const problemArbitrary: fc.Arbitrary<Problem> = fc
  .record({
    classes: fc.constantFrom(...CLASSES),
    batchDraw: fc.integer({ min: 1, max: 12 }),
    fromLogits: fc.boolean(),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    kindDraws: fc.array(fc.integer({ min: 0, max: 99 }), {
      minLength: 12,
      maxLength: 12,
    }),
    labelSmoothing: fc.constantFrom(0, 0, 0.1, 0.3, 1),
    useClassWeights: fc.boolean(),
    sampleWeight: fc.constantFrom("none", "scalar", "row"),
    useMask: fc.boolean(),
    ignoreClass: fc.constantFrom(undefined, -100, 0),
    reduction: fc.constantFrom(...REDUCTIONS),
    alpha: fc.constantFrom("default", "scalar", "list"),
    gamma: fc.constantFrom(0, 1, 2, 3.5),
  })
  .map((r) => {
    const batch = Math.max(
      1,
      Math.min(r.batchDraw, Math.floor(MAX_ELEMENTS / r.classes)),
    );
    const rowKinds = r.kindDraws.slice(0, batch).map((k): RowKind => {
      if (r.fromLogits) {
        if (k < 70) return "normal";
        if (k < 80) return "huge";
        if (k < 92) return "negInf";
        return "allNegInf";
      }
      if (k < 60) return "normal";
      if (k < 80) return "zeros";
      if (k < 92) return "oneHot";
      return "allZero";
    });
    return { ...r, batch, rowKinds } as Problem;
  });

/** Flat inputs and reference options built from a problem. */
interface Built {
  shape: number[];
  yPred: Float64Array;
  labels: number[];
  options: ref.RefOptions;
  libraryOptions: Record<string, unknown>;
}

function build(p: Problem, focal: boolean): Built {
  const random = seededRandom(p.seed);
  const { batch, classes } = p;
  const yPred = new Float64Array(batch * classes);
  const labels = Array.from({ length: batch }, () =>
    Math.floor(random() * classes),
  );
  const mask = Array.from({ length: batch }, () =>
    p.useMask && random() < 0.3 ? 0 : 1,
  );
  for (let r = 0; r < batch; r++) {
    let kind = p.rowKinds[r];
    // An all -Infinity row has NaN loss by definition, so it only goes where it is masked.
    if (kind === "allNegInf" && mask[r] !== 0) kind = "normal";
    for (let c = 0; c < classes; c++) {
      const i = r * classes + c;
      const u = random();
      switch (kind) {
        case "normal":
          yPred[i] = p.fromLogits ? Math.fround(60 * u - 30) : Math.fround(u);
          break;
        case "huge":
          if (u < 0.3) yPred[i] = 1e30;
          else if (u < 0.6) yPred[i] = -1e30;
          else yPred[i] = Math.fround(10 * u);
          break;
        case "negInf":
          yPred[i] =
            u < 0.4 && c !== labels[r] ? -Infinity : Math.fround(8 * u - 4);
          break;
        case "allNegInf":
          yPred[i] = -Infinity;
          break;
        case "zeros":
          yPred[i] = u < 0.4 ? 0 : Math.fround(u);
          break;
        case "oneHot":
          yPred[i] = c === r % classes ? 1 : 0;
          break;
        case "allZero":
          yPred[i] = 0;
          break;
      }
    }
  }
  if (p.ignoreClass !== undefined) {
    for (let r = 0; r < batch; r++)
      if (random() < 0.25) labels[r] = p.ignoreClass;
  }
  const options: ref.RefOptions = {
    fromLogits: p.fromLogits,
    labelSmoothing: p.labelSmoothing,
  };
  if (p.ignoreClass !== undefined) options.ignoreClass = p.ignoreClass;
  if (p.useClassWeights) {
    options.classWeights = Float64Array.from({ length: classes }, () =>
      Math.fround(0.1 + 2 * random()),
    );
  }
  if (p.sampleWeight === "scalar") options.sampleWeight = 0.75;
  if (p.sampleWeight === "row") {
    options.sampleWeight = Float64Array.from({ length: batch }, () =>
      Math.fround(2 * random()),
    );
  }
  if (p.useMask) options.mask = mask;
  if (focal) {
    if (p.alpha === "scalar") options.alpha = 0.6;
    if (p.alpha === "list") {
      options.alpha = Float64Array.from({ length: classes }, () =>
        Math.fround(random()),
      );
    }
    options.gamma = p.gamma;
  }
  const libraryOptions: Record<string, unknown> = {
    ...options,
    shape: [batch, classes],
    reduction: p.reduction,
  };
  if (
    options.sampleWeight !== undefined &&
    typeof options.sampleWeight !== "number"
  ) {
    libraryOptions.sampleWeight = Float32Array.from(options.sampleWeight);
  }
  if (options.mask !== undefined)
    libraryOptions.mask = Uint8Array.from(options.mask as number[]);
  if (options.classWeights !== undefined)
    libraryOptions.classWeights = Float32Array.from(options.classWeights);
  if (options.alpha !== undefined && typeof options.alpha !== "number") {
    libraryOptions.alpha = Float32Array.from(options.alpha);
  }
  return { shape: [batch, classes], yPred, labels, options, libraryOptions };
}

/** One-hot targets for the categorical APIs; ignored rows are masked instead. */
function categoricalInputs(b: Built) {
  const classes = b.shape[1];
  const ignore = b.options.ignoreClass;
  const mask = b.labels.map((label, r) => {
    const base = b.options.mask === undefined ? 1 : Number(b.options.mask[r]);
    return label === ignore ? 0 : base;
  });
  const safeLabels = b.labels.map((label) => (label === ignore ? 0 : label));
  const options: ref.RefOptions = { ...b.options, mask };
  delete options.ignoreClass;
  const libraryOptions: Record<string, unknown> = {
    ...b.libraryOptions,
    mask: Uint8Array.from(mask),
  };
  delete libraryOptions.ignoreClass;
  return { target: oneHot(safeLabels, classes), options, libraryOptions };
}

function compare(
  actual: unknown,
  expected: ref.RefLosses,
  reduction: Problem["reduction"],
  label: string,
) {
  if (reduction === "none") {
    expectElementsClose(actual, expected.losses, label);
  } else if (reduction === "totals") {
    expectTotalsClose(actual, expected.totals, label);
  } else {
    expectReductionClose(
      actual,
      ref.reduceTotals(expected.totals, reduction),
      label,
    );
  }
}

describe("properties", () => {
  test("sparse API matches reference", () => {
    fc.assert(
      fc.property(problemArbitrary, fc.boolean(), (p, focal) => {
        const b = build(p, focal);
        const api = focal
          ? sparseCategoricalFocalCrossentropy
          : sparseCategoricalCrossentropy;
        const reference = focal
          ? ref.sparseCategoricalFocalCrossentropy
          : ref.sparseCategoricalCrossentropy;
        const expected = reference(
          b.labels,
          ref.tensor(b.yPred, b.shape),
          b.options,
        );
        const actual = api(
          Int32Array.from(b.labels),
          Float32Array.from(b.yPred),
          b.libraryOptions,
        );
        compare(
          actual,
          expected,
          p.reduction,
          focal ? "sparse focal" : "sparse",
        );
      }),
    );
  });

  test("categorical API matches reference", () => {
    fc.assert(
      fc.property(problemArbitrary, fc.boolean(), (p, focal) => {
        const b = build(p, focal);
        const c = categoricalInputs(b);
        const api = focal
          ? categoricalFocalCrossentropy
          : categoricalCrossentropy;
        const reference = focal
          ? ref.categoricalFocalCrossentropy
          : ref.categoricalCrossentropy;
        const expected = reference(
          ref.tensor(c.target, b.shape),
          ref.tensor(b.yPred, b.shape),
          c.options,
        );
        const actual = api(
          Float32Array.from(c.target),
          Float32Array.from(b.yPred),
          c.libraryOptions,
        );
        compare(
          actual,
          expected,
          p.reduction,
          focal ? "categorical focal" : "categorical",
        );
      }),
    );
  });

  test("sparse equals one-hot", () => {
    fc.assert(
      fc.property(problemArbitrary, fc.boolean(), (p, focal) => {
        const b = build(p, focal);
        const c = categoricalInputs(b);
        const sparse = (
          focal
            ? sparseCategoricalFocalCrossentropy
            : sparseCategoricalCrossentropy
        )(
          Int32Array.from(b.labels),
          Float32Array.from(b.yPred),
          b.libraryOptions,
        );
        const dense = (
          focal ? categoricalFocalCrossentropy : categoricalCrossentropy
        )(
          Float32Array.from(c.target),
          Float32Array.from(b.yPred),
          c.libraryOptions,
        );
        if (p.reduction === "none") {
          expectElementsClose(sparse, toNumbers(dense), "losses");
        } else if (p.reduction === "totals") {
          expectTotalsClose(sparse, dense as ref.RefTotals, "totals");
        } else {
          expectReductionClose(sparse, dense as number, p.reduction);
        }
      }),
    );
  });

  test("focal gamma 0 alpha 1 is crossentropy", () => {
    fc.assert(
      fc.property(problemArbitrary, (p) => {
        const b = build(p, false);
        const labels = Int32Array.from(b.labels);
        const yPred = Float32Array.from(b.yPred);
        const plain = sparseCategoricalCrossentropy(
          labels,
          yPred,
          b.libraryOptions,
        );
        const focal = sparseCategoricalFocalCrossentropy(labels, yPred, {
          ...b.libraryOptions,
          gamma: 0,
          alpha: 1,
        });
        if (p.reduction === "none") {
          expectElementsClose(focal, toNumbers(plain), "losses");
        } else if (p.reduction === "totals") {
          expectTotalsClose(focal, plain as ref.RefTotals, "totals");
        } else {
          expectReductionClose(focal, plain as number, p.reduction);
        }
      }),
    );
  });

  test("chunked totals equal unchunked", () => {
    fc.assert(
      fc.property(
        problemArbitrary,
        fc.integer({ min: 0, max: 12 }),
        (p, cutDraw) => {
          const b = build({ ...p, reduction: "totals" }, false);
          const [batch, classes] = b.shape;
          const cut = cutDraw % (batch + 1);
          const total = { sum: 0, count: 0, weightSum: 0 };
          for (const [lo, hi] of [
            [0, cut],
            [cut, batch],
          ]) {
            const options: Record<string, unknown> = {
              ...b.libraryOptions,
              shape: [hi - lo, classes],
            };
            const weight = b.libraryOptions.sampleWeight;
            if (weight instanceof Float32Array)
              options.sampleWeight = weight.slice(lo, hi);
            const mask = b.libraryOptions.mask;
            if (mask instanceof Uint8Array) options.mask = mask.slice(lo, hi);
            const part = sparseCategoricalCrossentropy(
              Int32Array.from(b.labels.slice(lo, hi)),
              Float32Array.from(b.yPred.slice(lo * classes, hi * classes)),
              options,
            ) as ref.RefTotals;
            total.sum += part.sum;
            total.count += part.count;
            total.weightSum += part.weightSum;
          }
          for (const reduction of [
            "sum",
            "sum_over_batch_size",
            "mean",
            "mean_with_sample_weight",
          ] as const) {
            const whole = sparseCategoricalCrossentropy(
              Int32Array.from(b.labels),
              Float32Array.from(b.yPred),
              { ...b.libraryOptions, reduction },
            );
            expectReductionClose(
              reduceTotals(total, reduction),
              whole as number,
              `cut ${cut} ${reduction}`,
            );
          }
        },
      ),
    );
  });

  test("logSoftmax is x minus logSumExp", () => {
    fc.assert(
      fc.property(problemArbitrary, (p) => {
        const b = build({ ...p, fromLogits: true, useMask: false }, false);
        const x = Float32Array.from(b.yPred);
        const classes = b.shape[1];
        const lsm = logSoftmax(x, { shape: b.shape }) as Float32Array;
        const lse = logSumExp(x, { shape: b.shape }) as Float32Array;
        // lse is rounded to float32, so x - lse is only as exact as ulp(lse).
        let mismatch = "";
        for (let i = 0; i < x.length && mismatch === ""; i++) {
          const rowLse = lse[Math.floor(i / classes)];
          if (x[i] === -Infinity) {
            if (lsm[i] !== -Infinity)
              mismatch = `at ${i}: ${lsm[i]} vs -Infinity`;
            continue;
          }
          const bound = 1e-5 * Math.max(1, Math.abs(rowLse));
          if (!(Math.abs(lsm[i] - (x[i] - rowLse)) <= bound)) {
            mismatch = `at ${i}: ${lsm[i]} vs ${x[i] - rowLse}`;
          }
        }
        expect(mismatch, "logSoftmax differs from x - lse").toBe("");
        expectElementsClose(
          lse,
          ref.logSumExp(ref.tensor(b.yPred, b.shape)).data,
          "lse vs reference",
        );
      }),
    );
  });

  test("softmax rows sum to one", () => {
    fc.assert(
      fc.property(problemArbitrary, (p) => {
        const b = build({ ...p, fromLogits: true, useMask: false }, false);
        const classes = b.shape[1];
        const s = softmax(Float32Array.from(b.yPred), {
          shape: b.shape,
        }) as Float32Array;
        expectElementsClose(
          s,
          ref.softmax(ref.tensor(b.yPred, b.shape)).data,
          "softmax vs reference",
        );
        for (let r = 0; r < b.shape[0]; r++) {
          let sum = 0;
          for (let c = 0; c < classes; c++) sum += s[r * classes + c];
          expect(Math.abs(sum - 1), `row ${r} sum ${sum}`).toBeLessThanOrEqual(
            1e-5,
          );
        }
      }),
    );
  });
});
