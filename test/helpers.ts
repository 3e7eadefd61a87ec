/**
 * Shared test tools: a seeded random generator, input builders and the
 * tolerance checks every suite uses. Imports nothing from Node, so the
 * suites also run in a browser.
 */
import { expect } from "vitest";

import { flatten, type Nested } from "./reference.js";

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
export function integers(random: () => number, n: number, bound: number): number[] {
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
export function oneHot(labels: ArrayLike<number>, classes: number): Float64Array {
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
  if (ArrayBuffer.isView(value)) return Array.from(value as Float32Array, Number);
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
    expect(sameSpecial(a, expected), `${label}: expected ${expected}, got ${a}`).toBe(true);
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

/** Splits flat row-major data of `rows` rows into a nested `[rows, width]` array. */
export function toRows(data: ArrayLike<number>, width: number): number[][] {
  const rows: number[][] = [];
  for (let i = 0; i < data.length; i += width) {
    rows.push(Array.from({ length: width }, (_, c) => data[i + c]));
  }
  return rows;
}
