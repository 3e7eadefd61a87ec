import { Arena } from "./arena.js";
import { defaultInstance } from "./instance.js";
import { chunkCapacity, loadChunk, rowLayout, splitChunks, storeChunk } from "./rows.js";
import { checkOptionNames, checkOut } from "./crossentropy.js";
import { flattenFloats, formatShape, resolveAxis, typeName, unflatten } from "./shape.js";
import type { FloatInput, NestedArray, RowOptions } from "./types.js";

let arena: Arena | undefined;

function prepare(x: FloatInput, options: RowOptions, name: string, known: readonly string[]) {
  if (options === null || typeof options !== "object") {
    throw new TypeError(`options must be an object, but it is ${typeName(options)}.`);
  }
  checkOptionNames(options, known);
  const input = flattenFloats(x, options.shape, name);
  if (input.shape.length === 0) {
    throw new RangeError(`${name} is a single number, but it needs an axis to reduce; pass an array.`);
  }
  const axis = resolveAxis(options.axis, input.shape.length, name);
  const layout = rowLayout(input.shape, axis);
  if (layout.classes === 0 && layout.rows > 0) {
    throw new RangeError(
      `${name} has shape ${formatShape(input.shape)}, so axis ${axis} has size 0; it needs at least one value per row.`,
    );
  }
  arena ??= new Arena(defaultInstance());
  return { input, layout };
}

/**
 * Computes the log-sum-exp along `options.axis` (default last):
 * lse(x) = m + log(sum_j exp(x_j - m)) with m the max, in one pass.
 *
 * A row of only -Infinity gives -Infinity, a row with +Infinity gives
 * +Infinity, and a row with NaN gives NaN.
 *
 * @returns One value per row: nested like `x` without the axis, or a flat
 * Float32Array for typed-array input.
 */
export function logSumExp(x: FloatInput, options: RowOptions = {}): NestedArray | Float32Array {
  const { input, layout } = prepare(x, options, "x", ["axis", "shape"]);
  const out = new Float32Array(layout.rows);
  if (layout.rows > 0) {
    const a = arena!;
    a.reset();
    const instance = a.instance;
    // x from inputBuffer() is read where it is, with no copy.
    const inPlace = layout.inner === 1 && instance.holds(input.data);
    const inPlaceStart = input.data.byteOffset;
    // Other views of the module's memory are copied, because commit() may
    // grow the memory and detach them.
    if (!inPlace && input.data.buffer === instance.memory.buffer) input.data = input.data.slice();
    const capacity = chunkCapacity(layout);
    const xPtr = a.take(capacity * 4);
    const stagingPtr = layout.inner > 1 ? a.take(capacity * 4) : 0;
    const outPtr = a.take(Math.max(1, Math.floor(capacity / layout.classes)) * 4);
    const scratchPtr = a.take(2048);
    a.commit();
    for (const chunk of splitChunks(layout)) {
      let inputPtr = inPlaceStart + chunk.start * layout.classes * 4;
      if (!inPlace) {
        loadChunk(instance, layout, chunk, input.data, xPtr, stagingPtr);
        inputPtr = xPtr;
      }
      instance.kernels.logSumExpRows(outPtr, inputPtr, chunk.rows, layout.classes, scratchPtr);
      out.set(instance.f32.subarray(outPtr >>> 2, (outPtr >>> 2) + chunk.rows), chunk.start);
    }
  }
  return input.nested ? unflatten(out, layout.lossShape) : out;
}

function normalize(x: FloatInput, options: RowOptions, log: boolean): NestedArray | Float32Array {
  const { input, layout } = prepare(x, options, "x", ["axis", "shape", "out"]);
  const memoryBuffer = arena!.instance.memory.buffer;
  // A view of the module's memory is copied, because commit() may grow the
  // memory and detach it.
  if (input.data.buffer === memoryBuffer) input.data = input.data.slice();
  let out: Float32Array;
  if (options.out !== undefined) {
    checkOut(options.out, input.data.length, "x", memoryBuffer);
    out = options.out;
  } else {
    out = new Float32Array(input.data.length);
  }
  if (layout.rows > 0 && layout.classes > 0) {
    const a = arena!;
    a.reset();
    const capacity = chunkCapacity(layout);
    const xPtr = a.take(capacity * 4);
    const stagingPtr = layout.inner > 1 ? a.take(capacity * 4) : 0;
    const scratchPtr = a.take(2048);
    a.commit();
    const instance = a.instance;
    for (const chunk of splitChunks(layout)) {
      loadChunk(instance, layout, chunk, input.data, xPtr, stagingPtr);
      instance.kernels.softmaxRows(xPtr, xPtr, chunk.rows, layout.classes, log ? 1 : 0, scratchPtr);
      storeChunk(instance, layout, chunk, xPtr, stagingPtr, out);
    }
  }
  return input.nested && options.out === undefined ? unflatten(out, input.shape) : out;
}

/**
 * Computes log-softmax along `options.axis` (default last):
 * x_j - lse(x), formed as (x_j - m) - log S so that it stays exact for huge
 * logits. A row of only -Infinity gives NaN, as in IEEE arithmetic.
 *
 * @returns The shape of `x`: nested for nested input, else a Float32Array
 * (`options.out` when given).
 */
export function logSoftmax(x: FloatInput, options: RowOptions = {}): NestedArray | Float32Array {
  return normalize(x, options, true);
}

/**
 * Computes softmax along `options.axis` (default last): exp(x_j - lse(x)).
 * A row of only -Infinity gives NaN, as in IEEE arithmetic.
 *
 * @returns The shape of `x`: nested for nested input, else a Float32Array
 * (`options.out` when given).
 */
export function softmax(x: FloatInput, options: RowOptions = {}): NestedArray | Float32Array {
  return normalize(x, options, false);
}
