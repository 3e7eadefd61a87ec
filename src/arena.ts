import { KernelInstance } from "./instance.js";

/**
 * Values per chunk of input: 2^16 floats, 256 KiB, so that a chunk, its
 * targets and its gradient fit in a 1 MiB L2 cache together. A row longer
 * than this is one chunk.
 */
export const CHUNK_VALUES = 1 << 16;

/**
 * A bump allocator over the instance's memory above its input buffer, reset
 * at the start of every call. Memory grows only when a call needs more than
 * any earlier one, so it stays bounded by the largest chunk.
 */
export class Arena {
  private next: number;

  constructor(readonly instance: KernelInstance) {
    this.next = instance.arenaBase;
  }

  reset(): void {
    this.next = this.instance.arenaBase;
  }

  /** Reserves `bytes` bytes, 64-byte aligned, and returns their address. */
  take(bytes: number): number {
    const at = this.next;
    this.next = at + ((bytes + 63) & ~63);
    return at;
  }

  /** Grows the memory to cover everything taken since the last reset. */
  commit(): void {
    this.instance.ensure(this.next);
  }
}
