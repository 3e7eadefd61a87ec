import { CHUNK_VALUES } from "./arena.js";
import type { KernelInstance } from "./instance.js";
import { product } from "./shape.js";

/**
 * The rows of an input along its class axis: `outer` slabs of
 * `classes * inner` values, where a row is `classes` values `inner` apart.
 */
export interface RowLayout {
  shape: number[];
  axis: number;
  classes: number;
  outer: number;
  inner: number;
  rows: number;
  /** The shape without the class axis: one loss per entry. */
  lossShape: number[];
}

export function rowLayout(shape: number[], axis: number): RowLayout {
  const classes = shape[axis];
  const outer = product(shape, 0, axis);
  const inner = product(shape, axis + 1);
  return {
    shape,
    axis,
    classes,
    outer,
    inner,
    rows: outer * inner,
    lossShape: shape.filter((_, i) => i !== axis),
  };
}

/**
 * A run of consecutive rows handled by one kernel call. Rows are numbered
 * in loss order (outer index, then inner index).
 */
export interface Chunk {
  /** First row. */
  start: number;
  rows: number;
  /** For a class axis that is not last: first slab, and the slabs or the inner range covered. */
  slab: number;
  slabs: number;
  innerStart: number;
}

/** Largest number of values a chunk holds: the arena size of one chunk region. */
export function chunkCapacity(layout: RowLayout): number {
  return Math.max(CHUNK_VALUES, layout.classes);
}

/** Splits the rows into chunks of at most `chunkCapacity(layout)` values. */
export function splitChunks(layout: RowLayout): Chunk[] {
  const { classes, inner, outer, rows } = layout;
  const chunks: Chunk[] = [];
  if (rows === 0) return chunks;
  if (inner === 1) {
    const step = Math.max(1, Math.floor(CHUNK_VALUES / classes));
    for (let start = 0; start < rows; start += step) {
      chunks.push({ start, rows: Math.min(step, rows - start), slab: 0, slabs: 0, innerStart: 0 });
    }
    return chunks;
  }
  const slabValues = classes * inner;
  if (slabValues <= CHUNK_VALUES) {
    const step = Math.floor(CHUNK_VALUES / slabValues);
    for (let slab = 0; slab < outer; slab += step) {
      const slabs = Math.min(step, outer - slab);
      chunks.push({ start: slab * inner, rows: slabs * inner, slab, slabs, innerStart: 0 });
    }
    return chunks;
  }
  const width = Math.max(1, Math.floor(CHUNK_VALUES / classes));
  for (let slab = 0; slab < outer; slab++) {
    for (let innerStart = 0; innerStart < inner; innerStart += width) {
      const count = Math.min(width, inner - innerStart);
      chunks.push({ start: slab * inner + innerStart, rows: count, slab, slabs: 0, innerStart });
    }
  }
  return chunks;
}

/**
 * Copies the rows of a chunk from `source` into linear memory at `dst` as
 * contiguous rows, using `staging` (same size) to transpose a class axis
 * that is not last.
 */
export function loadChunk(
  instance: KernelInstance,
  layout: RowLayout,
  chunk: Chunk,
  source: Float32Array | Float64Array,
  dst: number,
  staging: number,
): void {
  const { classes, inner } = layout;
  const heap = instance.f32;
  if (inner === 1) {
    const from = chunk.start * classes;
    heap.set(source.subarray(from, from + chunk.rows * classes), dst >>> 2);
    return;
  }
  if (chunk.slabs > 0) {
    const slabValues = classes * inner;
    const from = chunk.slab * slabValues;
    heap.set(source.subarray(from, from + chunk.slabs * slabValues), staging >>> 2);
    for (let s = 0; s < chunk.slabs; s++) {
      const offset = s * slabValues * 4;
      instance.kernels.transpose(dst + offset, staging + offset, classes, inner);
    }
    return;
  }
  const width = chunk.rows;
  const base = chunk.slab * classes * inner + chunk.innerStart;
  for (let c = 0; c < classes; c++) {
    const from = base + c * inner;
    heap.set(source.subarray(from, from + width), (staging >>> 2) + c * width);
  }
  instance.kernels.transpose(dst, staging, classes, width);
}

/** Copies contiguous rows at `src` back into `target` in the input's layout; the inverse of loadChunk. */
export function storeChunk(
  instance: KernelInstance,
  layout: RowLayout,
  chunk: Chunk,
  src: number,
  staging: number,
  target: Float32Array,
): void {
  const { classes, inner } = layout;
  if (inner === 1) {
    const from = src >>> 2;
    target.set(instance.f32.subarray(from, from + chunk.rows * classes), chunk.start * classes);
    return;
  }
  if (chunk.slabs > 0) {
    const slabValues = classes * inner;
    for (let s = 0; s < chunk.slabs; s++) {
      const offset = s * slabValues * 4;
      instance.kernels.transpose(staging + offset, src + offset, inner, classes);
    }
    const from = staging >>> 2;
    target.set(instance.f32.subarray(from, from + chunk.slabs * slabValues), chunk.slab * slabValues);
    return;
  }
  const width = chunk.rows;
  instance.kernels.transpose(staging, src, width, classes);
  const heap = instance.f32;
  const base = chunk.slab * classes * inner + chunk.innerStart;
  for (let c = 0; c < classes; c++) {
    const from = (staging >>> 2) + c * width;
    target.set(heap.subarray(from, from + width), base + c * inner);
  }
}
