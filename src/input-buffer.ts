import { CHUNK_VALUES } from "./arena.js";
import { defaultInstance } from "./instance.js";

// Room for the arena of any call with rows of up to CHUNK_VALUES classes:
// input, targets, gradient and staging chunks plus per-row buffers.
const ARENA_HEADROOM = 6 * CHUNK_VALUES * 4;

/**
 * Returns a Float32Array of `length` values that lives in wasm-xent's own
 * WebAssembly memory. Fill it and pass it as `yPred` (or as `x` to
 * `logSumExp`), with `options.shape`, and the kernels read it in place
 * instead of copying it, when the class axis is last.
 *
 * Lifetime: there is one such buffer. Calling inputBuffer again returns a
 * view of the same memory with its contents kept, grown if `length` is
 * larger. A grow detaches every earlier view, whose length becomes 0. A call
 * whose rows are longer than 65,536 classes may also grow the memory. After
 * a grow, call inputBuffer again for a live view; the values are still there.
 *
 * @param length - Number of float32 values, at most 2^28 (1 GiB).
 */
export function inputBuffer(length: number): Float32Array {
  if (!Number.isInteger(length) || length < 0 || length > 2 ** 28) {
    throw new RangeError(`length is ${String(length)}, but it must be an integer in [0, 2^28].`);
  }
  const instance = defaultInstance();
  const bytes = Math.ceil((length * 4) / 64) * 64;
  if (bytes > instance.reserved) {
    instance.ensure(instance.base + bytes + ARENA_HEADROOM);
    instance.reserved = bytes;
  }
  return new Float32Array(instance.memory.buffer, instance.base, length);
}
