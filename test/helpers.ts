/**
 * Shared test tools: a seeded random generator, input builders and the
 * tolerance checks every suite uses. Imports nothing from Node, so the
 * suites also run in a browser.
 */
import { expect } from "vitest";

import {
  classLayout,
  flatten,
  nest,
  product,
  reduceTotals,
  shapeOf,
  tensor,
  type Nested,
  type RefLosses,
  type RefOptions,
  type RefReduction,
  type Tensor,
} from "./reference.js";

/** Tolerance of every element: |actual - expected| <= ELEMENT_TOL * max(1, |expected|). */
export const ELEMENT_TOL = 1e-5;
/** Tolerance of every reduction: |actual - expected| <= REDUCTION_RTOL * max(|expected|, tiny). */
export const REDUCTION_RTOL = 1e-6;

/** Returns a seeded generator of floats in [0, 1) (mulberry32). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Draws `n` float32-exact values uniform in [lo, hi). */
export function uniform(
  random: () => number,
  n: number,
  lo: number,
  hi: number,
): Float64Array {
  return Float64Array.from({ length: n }, () =>
    Math.fround(lo + (hi - lo) * random()),
  );
}

/** Draws `n` integers uniform in [0, bound). */
export function integers(
  random: () => number,
  n: number,
  bound: number,
): number[] {
  return Array.from({ length: n }, () => Math.floor(random() * bound));
}

/** Builds rows of probabilities that sum to 1 in float64, rounded to float32. */
export function probabilityRows(
  random: () => number,
  rows: number,
  classes: number,
): Float64Array {
  const out = new Float64Array(rows * classes);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let c = 0; c < classes; c++) {
      const v = 0.05 + random();
      out[r * classes + c] = v;
      sum += v;
    }
    for (let c = 0; c < classes; c++) {
      out[r * classes + c] = Math.fround(out[r * classes + c] / sum);
    }
  }
  return out;
}

/** Builds soft target rows that sum to 1 (rounded to float32). */
export function softTargets(
  random: () => number,
  rows: number,
  classes: number,
): Float64Array {
  return probabilityRows(random, rows, classes);
}

/** Builds one-hot rows of the labels; a label outside [0, classes) gives a zero row. */
export function oneHot(
  labels: ArrayLike<number>,
  classes: number,
): Float64Array {
  const out = new Float64Array(labels.length * classes);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    if (label >= 0 && label < classes) out[i * classes + label] = 1;
  }
  return out;
}

/** Flattens a library result (nested array, typed array or number) to numbers. */
export function toNumbers(value: unknown): number[] {
  if (typeof value === "number") return [value];
  if (ArrayBuffer.isView(value))
    return Array.from(value as Float32Array, Number);
  if (Array.isArray(value)) return flatten(value as Nested);
  throw new Error(`toNumbers: unexpected ${typeof value}`);
}

function sameSpecial(actual: number, expected: number): boolean {
  if (Number.isNaN(expected)) return Number.isNaN(actual);
  return actual === expected;
}

/**
 * Asserts that every element of `actual` is within
 * `tol * max(1, |expected|)` of `expected`. NaN and infinities must match
 * exactly.
 */
export function expectElementsClose(
  actual: unknown,
  expected: ArrayLike<number>,
  label: string,
  tol = ELEMENT_TOL,
): void {
  const values = toNumbers(actual);
  expect(values.length, `${label}: length`).toBe(expected.length);
  let worst = -1;
  let worstError = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    const a = values[i];
    if (!Number.isFinite(e)) {
      if (!sameSpecial(a, e)) {
        expect.fail(`${label}[${i}]: expected ${e}, got ${a}`);
      }
      continue;
    }
    const error = Math.abs(a - e) / Math.max(1, Math.abs(e));
    if (!(error <= tol) && (worst < 0 || !(error <= worstError))) {
      worst = i;
      worstError = error;
    }
  }
  if (worst >= 0) {
    expect.fail(
      `${label}[${worst}]: expected ${expected[worst]}, got ${values[worst]}` +
        ` (scaled error ${worstError}, tolerance ${tol})`,
    );
  }
}

/** Asserts a reduced value within `rtol` relative (absolute below 1e-30). */
export function expectReductionClose(
  actual: unknown,
  expected: number,
  label: string,
  rtol = REDUCTION_RTOL,
): void {
  expect(typeof actual, `${label}: type`).toBe("number");
  const a = actual as number;
  if (!Number.isFinite(expected)) {
    expect(
      sameSpecial(a, expected),
      `${label}: expected ${expected}, got ${a}`,
    ).toBe(true);
    return;
  }
  const error = Math.abs(a - expected);
  const bound = rtol * Math.max(Math.abs(expected), 1e-30);
  expect(
    error <= bound,
    `${label}: expected ${expected}, got ${a} (error ${error}, bound ${bound})`,
  ).toBe(true);
}

/** Asserts that a 'totals' result matches the reference sums. */
export function expectTotalsClose(
  actual: unknown,
  expected: { sum: number; count: number; weightSum: number },
  label: string,
): void {
  const t = actual as { sum: number; count: number; weightSum: number };
  expect(typeof t, `${label}: type`).toBe("object");
  expectReductionClose(t.sum, expected.sum, `${label}.sum`);
  expect(t.count, `${label}.count`).toBe(expected.count);
  expectReductionClose(t.weightSum, expected.weightSum, `${label}.weightSum`);
}

/** Asserts that every value is zero (either sign). */
export function expectZeros(values: ArrayLike<number>, label: string): void {
  const nonzero = Array.from(values).findIndex((v) => v !== 0);
  expect(
    nonzero,
    `${label}: value ${values[nonzero]} at ${nonzero} should be 0`,
  ).toBe(-1);
}

// ---------------------------------------------------------------------------
// Running one loss case through the library in every input form

/** A library loss: (yTrue or labels, yPred, options) => result. */
export type LossApi = (target: any, yPred: any, options?: any) => unknown;

/** The input forms a case is run in. */
export type InputForm = "nested" | "float32" | "float64" | "array" | "trailing";

/** One call of a loss: inputs as flat float64 data and reference options. */
export interface LossCase {
  sparse: boolean;
  /** Shape of yPred. */
  shape: number[];
  /** yPred values, already rounded to float32. */
  yPred: Float64Array;
  /** Labels (one per loss) when sparse, else yTrue with the length of yPred. */
  target: ArrayLike<number>;
  /** Options for both sides; sampleWeight and mask are flat arrays or scalars. */
  options: RefOptions;
}

/** Converts flat per-loss data to the nested form of a prefix of the loss shape. */
function nestPerLoss(values: ArrayLike<number>, lossShape: number[]): Nested {
  for (let k = lossShape.length; k >= 0; k--) {
    const prefix = lossShape.slice(0, k);
    if (product(prefix) === values.length && prefix.length > 0) {
      return nest(values, prefix);
    }
  }
  return Array.from(values);
}

function labelArray(labels: ArrayLike<number>, form: InputForm) {
  const values = Array.from(labels);
  const fitsUint8 = values.every((v) => v >= 0 && v < 256);
  if (form === "float32") return Int32Array.from(values);
  if (form === "float64") return BigInt64Array.from(values, (v) => BigInt(v));
  return fitsUint8 ? Uint8Array.from(values) : values;
}

/**
 * Builds the library's arguments for a case in one input form: nested
 * arrays, flat Float32Array / Float64Array / number[] with `shape`, or nested
 * labels with a trailing axis of size 1.
 */
export function libraryArguments(c: LossCase, form: InputForm) {
  const lossShape = classLayout(c.shape, c.options.axis).lossShape;
  const options: Record<string, unknown> = { ...c.options };
  const flat = form === "float32" || form === "float64" || form === "array";
  let yPred: unknown;
  let target: unknown;
  if (flat) {
    options.shape = c.shape;
    const make =
      form === "float32"
        ? (v: ArrayLike<number>) => Float32Array.from(v)
        : form === "float64"
          ? (v: ArrayLike<number>) => Float64Array.from(v)
          : (v: ArrayLike<number>) => Array.from(v);
    yPred = make(c.yPred);
    target = c.sparse ? labelArray(c.target, form) : make(c.target);
    const weight = c.options.sampleWeight;
    if (weight !== undefined && typeof weight !== "number")
      options.sampleWeight = make(weight);
    const mask = c.options.mask;
    if (mask !== undefined)
      options.mask = Uint8Array.from(mask, (v) => (v ? 1 : 0));
  } else {
    yPred = nest(c.yPred, c.shape);
    if (!c.sparse) {
      target = nest(c.target, c.shape);
    } else if (form === "trailing") {
      target = nest(c.target, [...lossShape, 1]);
    } else {
      target = nest(c.target, lossShape);
    }
    const weight = c.options.sampleWeight;
    if (weight !== undefined && typeof weight !== "number") {
      options.sampleWeight =
        form === "trailing" && weight.length === lossShape[0]
          ? nest(weight, [weight.length, 1])
          : nestPerLoss(weight, lossShape);
    }
    const mask = c.options.mask;
    if (mask !== undefined) {
      options.mask = nestPerLoss(
        Array.from(mask, (v) => (v ? 1 : 0)),
        lossShape,
      );
    }
  }
  return { target, yPred, options, lossShape, flat };
}

/** Reference result of a case. */
export type ReferenceLoss = (
  target: ArrayLike<number>,
  yPred: Tensor,
  options: RefOptions,
) => RefLosses;

/** Runs a case through the library for each reduction and compares with the reference. */
export function checkLossCase(
  api: LossApi,
  reference: ReferenceLoss,
  c: LossCase,
  label: string,
  reductions: readonly RefReduction[] = ALL_REDUCTIONS,
  forms: readonly InputForm[] = ["nested", "float32"],
): void {
  const expected = reference(
    c.sparse ? c.target : Float64Array.from(c.target),
    c.sparse ? tensor(c.yPred, c.shape) : tensor(c.yPred, c.shape),
    c.options,
  );
  for (const form of forms) {
    const args = libraryArguments(c, form);
    for (const reduction of reductions) {
      const where = `${label} ${form} ${reduction}`;
      const result = api(args.target, args.yPred, {
        ...args.options,
        reduction,
      });
      if (reduction === "none") {
        checkLossShape(result, args.lossShape, args.flat, where);
        expectElementsClose(result, expected.losses, where);
      } else if (reduction === "totals") {
        expectTotalsClose(result, expected.totals, where);
      } else {
        expectReductionClose(
          result,
          reduceTotals(expected.totals, reduction),
          where,
        );
      }
    }
  }
}

/** Asserts that per-loss output has the loss shape: nested, or a flat Float32Array. */
export function checkLossShape(
  result: unknown,
  lossShape: number[],
  flat: boolean,
  label: string,
): void {
  if (flat) {
    expect(result, `${label}: Float32Array`).toBeInstanceOf(Float32Array);
    expect((result as Float32Array).length, `${label}: length`).toBe(
      product(lossShape),
    );
  } else if (lossShape.length === 0) {
    expect(typeof result, `${label}: scalar loss`).toBe("number");
  } else {
    expect(Array.isArray(result), `${label}: nested array`).toBe(true);
    expect(shapeOf(result as Nested), `${label}: shape`).toEqual(lossShape);
  }
}

export const ALL_REDUCTIONS: readonly RefReduction[] = [
  "none",
  "sum",
  "sum_over_batch_size",
  "mean",
  "mean_with_sample_weight",
  "totals",
];

// ---------------------------------------------------------------------------
// The option matrix every loss suite runs

/** Class counts that cover SIMD tails: 1 to 5, 8, 9 and more than two groups. */
export const CLASS_COUNTS = [1, 2, 3, 4, 5, 8, 9, 17] as const;

/** One entry of the option matrix: a name and a builder for a given batch. */
export interface OptionSet {
  name: string;
  sparseOnly?: boolean;
  /** Returns options; `labels` may be edited to place ignored rows. */
  build(
    random: () => number,
    batch: number,
    classes: number,
    labels: number[],
  ): RefOptions;
}

export const OPTION_SETS: readonly OptionSet[] = [
  { name: "no options", build: () => ({}) },
  { name: "label smoothing", build: () => ({ labelSmoothing: 0.1 }) },
  {
    name: "class weights",
    build: (random, _batch, classes) => ({
      classWeights: uniform(random, classes, 0.1, 2),
    }),
  },
  {
    name: "per-row sample weights",
    build: (random, batch) => ({ sampleWeight: uniform(random, batch, 0, 2) }),
  },
  { name: "scalar sample weight", build: () => ({ sampleWeight: 0.5 }) },
  {
    name: "zero sample weights",
    build: (_random, batch) => ({ sampleWeight: new Float64Array(batch) }),
  },
  {
    name: "mask excludes none",
    build: (_random, batch) => ({ mask: new Array(batch).fill(1) }),
  },
  {
    name: "mask excludes some",
    build: (_random, batch) => ({
      mask: Array.from({ length: batch }, (_, i) => (i % 3 === 1 ? 0 : 1)),
    }),
  },
  {
    name: "mask excludes all",
    build: (_random, batch) => ({ mask: new Array(batch).fill(0) }),
  },
  {
    name: "negative ignoreClass",
    sparseOnly: true,
    build: (_random, _batch, _classes, labels) => {
      labels[1] = -100;
      labels[3] = -100;
      return { ignoreClass: -100 };
    },
  },
  {
    name: "real class ignoreClass",
    sparseOnly: true,
    build: (_random, _batch, _classes, labels) => {
      labels[2] = 0;
      return { ignoreClass: 0 };
    },
  },
  {
    name: "all options combined",
    build: (random, batch, classes, labels) => {
      labels[4] = -1;
      return {
        labelSmoothing: 0.2,
        ignoreClass: -1,
        classWeights: uniform(random, classes, 0.1, 2),
        sampleWeight: uniform(random, batch, 0.1, 3),
        mask: Array.from({ length: batch }, (_, i) => (i === 0 ? 0 : 1)),
      };
    },
  },
];

/**
 * Builds a `[batch, classes]` case: logits in [-5, 5] or probability rows
 * (some entries exactly 0), and labels or target rows (one-hot and soft).
 */
export function makeCase(
  random: () => number,
  sparse: boolean,
  fromLogits: boolean,
  batch: number,
  classes: number,
  optionSet: OptionSet,
): LossCase {
  const labels = integers(random, batch, classes);
  const yPred = fromLogits
    ? uniform(random, batch * classes, -5, 5)
    : probabilityRows(random, batch, classes);
  if (!fromLogits && classes > 1) {
    // A zero probability in every other row, away from the label.
    for (let r = 0; r < batch; r += 2)
      yPred[r * classes + ((labels[r] + 1) % classes)] = 0;
  }
  const options = optionSet.build(random, batch, classes, labels);
  if (!sparse) delete options.ignoreClass;
  let target: ArrayLike<number> = labels;
  if (!sparse) {
    const soft = softTargets(random, batch, classes);
    const hard = oneHot(labels, classes);
    target = soft.map((v, i) =>
      Math.floor(i / classes) % 2 === 0 ? hard[i] : v,
    );
  }
  return {
    sparse,
    shape: [batch, classes],
    yPred,
    target,
    options: { ...options, fromLogits },
  };
}

/** Rotates through the extra input forms so each appears for some class counts. */
export function formsFor(index: number, sparse: boolean): InputForm[] {
  const extra: InputForm[] = sparse
    ? ["float64", "array", "trailing"]
    : ["float64", "array"];
  return ["nested", "float32", extra[index % extra.length]];
}
