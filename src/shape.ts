import type { NestedArray } from "./types.js";

/** A flat, row-major view of an input with its shape. */
export interface Flat<T extends ArrayLike<number> = ArrayLike<number>> {
  data: T;
  shape: number[];
  /** Whether the caller passed nested arrays, so the output is nested too. */
  nested: boolean;
}

export function isTypedArray(value: unknown): value is ArrayLike<number> {
  return ArrayBuffer.isView(value) && !(value instanceof DataView);
}

export function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "Array";
  if (typeof value === "object") return (value as object).constructor?.name ?? "object";
  return typeof value;
}

export function product(shape: readonly number[], from = 0, to = shape.length): number {
  let n = 1;
  for (let i = from; i < to; i++) n *= shape[i];
  return n;
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/** Returns the shape of a nested array, checking that it is rectangular. */
function nestedShape(value: NestedArray, name: string): number[] {
  const shape: number[] = [];
  let level: NestedArray = value;
  while (Array.isArray(level)) {
    shape.push(level.length);
    if (level.length === 0) break;
    level = level[0];
  }
  checkRectangular(value, shape, 0, name, []);
  return shape;
}

function checkRectangular(
  value: NestedArray,
  shape: number[],
  depth: number,
  name: string,
  path: number[],
): void {
  if (depth === shape.length) {
    if (Array.isArray(value)) {
      throw new RangeError(
        `${name}${indexText(path)} is an array, but the arrays at this depth contain numbers; ` +
          `make ${name} rectangular.`,
      );
    }
    return;
  }
  if (!Array.isArray(value) || value.length !== shape[depth]) {
    const found = Array.isArray(value) ? `length ${value.length}` : "a number";
    throw new RangeError(
      `${name}${indexText(path)} has ${found}, but ${name} starts with shape ` +
        `${formatShape(shape)}; make ${name} rectangular.`,
    );
  }
  for (let i = 0; i < value.length; i++) {
    checkRectangular(value[i] as NestedArray, shape, depth + 1, name, [...path, i]);
  }
}

function indexText(path: number[]): string {
  return path.length === 0 ? "" : `[${path.join("][")}]`;
}

function flattenInto(value: NestedArray, out: { [i: number]: number }, at: number): number {
  if (!Array.isArray(value)) {
    out[at] = value as number;
    return at + 1;
  }
  for (const item of value) at = flattenInto(item as NestedArray, out, at);
  return at;
}

/**
 * Flattens float input: a nested number array, or a flat Float32Array,
 * Float64Array or number array with `shape`.
 */
export function flattenFloats(
  value: unknown,
  shape: readonly number[] | undefined,
  name: string,
): Flat<Float32Array | Float64Array> {
  if (value instanceof Float32Array || value instanceof Float64Array) {
    return { data: value, shape: checkShape(shape, value.length, name), nested: false };
  }
  if (isTypedArray(value) || typeof value === "bigint") {
    throw new TypeError(
      `${name} must be a Float32Array, a Float64Array or a number array, but it is a ` +
        `${typeName(value)}; convert it with Float32Array.from(${name}).`,
    );
  }
  if (Array.isArray(value)) {
    if (shape !== undefined && value.every((item) => typeof item === "number")) {
      return {
        data: Float32Array.from(value as number[]),
        shape: checkShape(shape, value.length, name),
        nested: false,
      };
    }
    const nested = nestedShape(value as NestedArray, name);
    if (shape !== undefined && (shape.length !== nested.length || shape.some((n, i) => n !== nested[i]))) {
      throw new RangeError(
        `options.shape is ${formatShape(shape)}, but ${name} is a nested array of shape ` +
          `${formatShape(nested)}; leave out options.shape for nested arrays or make them agree.`,
      );
    }
    const data = new Float32Array(product(nested));
    flattenInto(value as NestedArray, data, 0);
    checkNumbers(data, value, name);
    return { data, shape: nested, nested: true };
  }
  throw new TypeError(
    `${name} must be a nested number array or a Float32Array with options.shape, ` +
      `but it is ${typeName(value)}.`,
  );
}

function checkNumbers(data: Float32Array, value: NestedArray, name: string): void {
  // Float32Array converts strings, null and booleans to numbers, so check
  // the type of every leaf.
  const items: unknown[] = new Array(data.length);
  flattenInto(value, items as number[], 0);
  for (let j = 0; j < items.length; j++) {
    if (typeof items[j] !== "number") {
      throw new TypeError(
        `${name} contains ${describe(items[j])} at flat index ${j}, but it must contain only numbers.`,
      );
    }
  }
}

/** Formats a value for a message: strings quoted, other values by type. */
export function describe(value: unknown): string {
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") {
    return `${typeof value} ${String(value)}`;
  }
  return typeName(value);
}

/** Flattens class ids to a plain number array view (no copy for typed arrays). */
export function flattenLabels(
  value: unknown,
  name: string,
): { data: ArrayLike<number | bigint>; shape: number[] | undefined } {
  if (isTypedArray(value) || value instanceof BigInt64Array || value instanceof BigUint64Array) {
    return { data: value as ArrayLike<number | bigint>, shape: undefined };
  }
  if (Array.isArray(value)) {
    if (value.every((item) => !Array.isArray(item))) {
      return { data: value as number[], shape: [value.length] };
    }
    const shape = nestedShape(value as NestedArray, name);
    const data: number[] = new Array(product(shape));
    flattenInto(value as NestedArray, data, 0);
    return { data, shape };
  }
  if (typeof value === "number") return { data: [value], shape: [] };
  throw new TypeError(
    `${name} must be an integer typed array or a number array, but it is ${typeName(value)}.`,
  );
}

function checkShape(shape: readonly number[] | undefined, length: number, name: string): number[] {
  if (shape === undefined) {
    throw new TypeError(
      `options.shape is missing: ${name} is a flat typed array of length ${length}, so pass ` +
        `its shape, e.g. { shape: [batch, classes] }.`,
    );
  }
  if (!Array.isArray(shape) || !shape.every((n) => Number.isInteger(n) && n >= 0)) {
    throw new TypeError(
      `options.shape is ${JSON.stringify(shape)}, but it must be an array of non-negative integers.`,
    );
  }
  if (product(shape) !== length) {
    throw new RangeError(
      `options.shape ${formatShape(shape)} has ${product(shape)} values, but ${name} has ` +
        `length ${length}; pass the shape of ${name}.` +
        (length === 0 && product(shape) > 0
          ? ` If ${name} came from inputBuffer(), it was detached when the memory grew: call inputBuffer() again.`
          : ""),
    );
  }
  return [...shape];
}

/** Builds nested arrays of `shape` from flat values. */
export function unflatten(data: ArrayLike<number>, shape: readonly number[]): NestedArray {
  if (shape.length === 0) return data[0];
  let at = 0;
  const build = (depth: number): NestedArray[] => {
    const out: NestedArray[] = new Array(shape[depth]);
    for (let i = 0; i < shape[depth]; i++) {
      out[i] = depth + 1 === shape.length ? data[at++] : build(depth + 1);
    }
    return out;
  };
  return build(0);
}

/** Resolves a possibly negative axis against a rank. */
export function resolveAxis(axis: number | undefined, rank: number, name: string): number {
  const value = axis ?? -1;
  if (typeof value !== "number") {
    throw new TypeError(`options.axis is ${describe(value)}, but it must be an integer.`);
  }
  if (!Number.isInteger(value) || value < -rank || value >= rank) {
    throw new RangeError(
      `options.axis is ${String(axis)}, but ${name} has rank ${rank}; ` +
        `pass an integer in [${-rank}, ${rank - 1}].`,
    );
  }
  return value < 0 ? value + rank : value;
}
