import { describe, flattenLabels, formatShape, isTypedArray, product, typeName } from "./shape.js";
import type { LossTotals, Reduction } from "./types.js";

export const REDUCTIONS: readonly Reduction[] = [
  "none",
  "sum",
  "sum_over_batch_size",
  "mean",
  "mean_with_sample_weight",
  "totals",
];

export function checkReduction(value: unknown): Reduction {
  const reduction = value ?? "none";
  if (!REDUCTIONS.includes(reduction as Reduction)) {
    throw new RangeError(
      `options.reduction is ${JSON.stringify(value)}, but it must be one of ` +
        `${REDUCTIONS.map((r) => `'${r}'`).join(", ")}.`,
    );
  }
  return reduction as Reduction;
}

export function checkUnitInterval(value: unknown, name: string): number {
  const number = value ?? 0;
  if (typeof number !== "number") {
    throw new TypeError(`${name} is ${describe(value)}, but it must be a number in [0, 1].`);
  }
  if (!(number >= 0 && number <= 1)) {
    throw new RangeError(`${name} is ${String(value)}, but it must be a number in [0, 1].`);
  }
  return number;
}

export function checkNonNegative(value: unknown, fallback: number, name: string): number {
  const number = value ?? fallback;
  if (typeof number !== "number") {
    throw new TypeError(`${name} is ${describe(value)}, but it must be a finite number >= 0.`);
  }
  if (!(number >= 0) || number === Infinity) {
    throw new RangeError(`${name} is ${String(value)}, but it must be a finite number >= 0.`);
  }
  return number;
}

/**
 * Reads one finite number per class from `value`, a number (the same for
 * every class) or an array of length `classes`.
 */
export function perClass(
  value: unknown,
  classes: number,
  name: string,
  allowScalar: boolean,
): Float32Array {
  const out = new Float32Array(classes);
  if (typeof value === "number" && allowScalar) {
    if (!Number.isFinite(value)) {
      throw new RangeError(`${name} is ${value}, but it must be finite.`);
    }
    return out.fill(value);
  }
  if (!(Array.isArray(value) || isTypedArray(value))) {
    throw new TypeError(
      `${name} must be ${allowScalar ? "a number or " : ""}an array of ${classes} numbers, ` +
        `one per class, but it is ${typeName(value)}.`,
    );
  }
  const values = value as ArrayLike<number>;
  if (values.length !== classes) {
    throw new RangeError(
      `${name} has length ${values.length}, but there are ${classes} classes; pass one value per class.`,
    );
  }
  for (let c = 0; c < classes; c++) {
    const v = values[c];
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new RangeError(`${name}[${c}] is ${String(v)}, but it must be a finite number.`);
    }
    out[c] = v;
  }
  return out;
}

/**
 * A value per loss given as a scalar, one per loss, or one per leading
 * entry: the value of loss i is `data[Math.floor(i / repeat)]`.
 */
export interface PerLoss {
  data: ArrayLike<number>;
  repeat: number;
}

/**
 * Broadcasts a sample weight or mask to one value per loss. It accepts a
 * number, or a flat array of length 1, of one value per loss, or of one
 * value per entry of the leading loss dimensions. It also accepts a nested
 * array whose shape is a leading part of the loss shape, with trailing axes
 * of size 1 allowed.
 */
export function perLoss(value: unknown, lossShape: number[], name: string): PerLoss {
  const count = product(lossShape);
  if (typeof value !== "number" && typeof value !== "boolean" && !Array.isArray(value) && !isTypedArray(value)) {
    throw new TypeError(
      `${name} is ${describe(value)}, but it must be a number, one value per row, or one per loss ` +
        `(an array or typed array).`,
    );
  }
  if (typeof value === "number" || typeof value === "boolean") {
    return { data: [Number(value)], repeat: Math.max(count, 1) };
  }
  const { data, shape } = flattenLabels(value, name);
  const length = data.length;
  const numbers = toNumbers(data, name);
  if (shape !== undefined && shape.length > 1) {
    // A shape matches when it is a leading part of the loss shape, after
    // dropping trailing axes of size 1 ([batch, 1] for [batch, time] losses).
    const leading = (s: number[]) => s.length <= lossShape.length && s.every((n, i) => n === lossShape[i]);
    let trimmed = shape;
    while (!leading(trimmed) && trimmed[trimmed.length - 1] === 1) trimmed = trimmed.slice(0, -1);
    const matches = leading(trimmed);
    if (!matches) {
      throw new RangeError(
        `${name} has shape ${formatShape(shape)}, but the losses have shape ` +
          `${formatShape(lossShape)}; pass one value per loss or per leading entry ` +
          `(for example ${formatShape(lossShape.slice(0, 1))}).`,
      );
    }
    return { data: numbers, repeat: length === 0 ? 1 : count / length };
  }
  if (length === 1) return { data: numbers, repeat: Math.max(count, 1) };
  for (let k = 0; k <= lossShape.length; k++) {
    if (product(lossShape, 0, k) === length && length > 0) {
      return { data: numbers, repeat: count / length };
    }
  }
  if (count === 0 && length === 0) return { data: numbers, repeat: 1 };
  throw new RangeError(
    `${name} has length ${length}, but the losses have shape ${formatShape(lossShape)} ` +
      `(${count} losses); pass one value per loss or per leading entry.`,
  );
}

function toNumbers(data: ArrayLike<number | bigint | boolean>, name: string): ArrayLike<number> {
  if (data instanceof Float32Array || data instanceof Float64Array) return data;
  const out = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (typeof v !== "number" && typeof v !== "bigint" && typeof v !== "boolean") {
      throw new TypeError(`${name}[${i}] is ${typeName(v)}, but ${name} must hold numbers.`);
    }
    out[i] = Number(v);
  }
  return out;
}

/** Checks that every value of a weight is finite. */
export function checkFinite(values: PerLoss, name: string): void {
  for (let i = 0; i < values.data.length; i++) {
    if (!Number.isFinite(values.data[i])) {
      throw new RangeError(`${name}[${i}] is ${values.data[i]}, but ${name} must contain finite numbers.`);
    }
  }
}

/** Returns the reduced value of `totals`, with 0 for an empty divisor. */
export function reduceTotals(totals: LossTotals, reduction: Reduction): number {
  const checked = checkReduction(reduction);
  if (totals === null || typeof totals !== "object") {
    throw new TypeError(`totals is ${describe(totals)}, but it must be an object { sum, count, weightSum }.`);
  }
  for (const key of ["sum", "count", "weightSum"] as const) {
    if (typeof totals[key] !== "number") {
      throw new TypeError(
        `totals.${key} is ${describe(totals[key])}, but it must be a number; pass the result of reduction 'totals'.`,
      );
    }
  }
  switch (checked) {
    case "sum":
    case "totals":
      return totals.sum;
    case "sum_over_batch_size":
    case "mean":
      return totals.count === 0 ? 0 : totals.sum / totals.count;
    case "mean_with_sample_weight":
      return totals.weightSum === 0 ? 0 : totals.sum / totals.weightSum;
    default:
      throw new RangeError(
        `reduceTotals cannot apply reduction 'none'; use 'sum', 'mean' or 'mean_with_sample_weight'.`,
      );
  }
}
