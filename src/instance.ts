import { wasmBase64 } from "./wasm-bytes.generated.js";

/** Names of the crossentropy kernel variants, one per combination of options. */
export type CrossentropyVariant =
  `${"crossentropy" | "focal"}${"Dense" | "Sparse"}${"Logits" | "Probabilities"}${"" | "WithGradient"}`;

/** Signature shared by every crossentropy variant (see assembly/crossentropy.ts). */
export type CrossentropyKernel = (
  losses: number,
  grad: number,
  totals: number,
  x: number,
  targets: number,
  labels: number,
  sampleWeights: number,
  scales: number,
  classWeights: number,
  alpha: number,
  rows: number,
  classes: number,
  smoothing: number,
  gamma: number,
  scratch: number,
) => number;

/** The kernels exported by the WebAssembly module (see assembly/index.ts). */
export interface KernelExports extends Record<CrossentropyVariant, CrossentropyKernel> {
  heapBase(): number;
  checkProbabilities(totals: number, x: number, labels: number, rows: number, classes: number): number;
  logSumExpRows(out: number, x: number, rows: number, classes: number, scratch: number): void;
  softmaxRows(out: number, x: number, rows: number, classes: number, log: number, scratch: number): void;
  transpose(dst: number, src: number, rows: number, cols: number): void;
  expValues(dst: number, src: number, count: number): void;
  logValues(dst: number, src: number, count: number): void;
}

const PAGE_BYTES = 65536;

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  // Native decoders take well under a millisecond; the atob loop below takes
  // several, because it runs as cold JavaScript on the first call.
  const fromBase64 = (Uint8Array as { fromBase64?: (text: string) => Uint8Array<ArrayBuffer> }).fromBase64;
  if (fromBase64) return fromBase64(text);
  const nodeBuffer = (globalThis as { Buffer?: { from(text: string, encoding: string): Uint8Array } }).Buffer;
  if (nodeBuffer) {
    const decoded = nodeBuffer.from(text, "base64");
    return new Uint8Array(decoded.buffer.slice(decoded.byteOffset, decoded.byteOffset + decoded.byteLength) as ArrayBuffer);
  }
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * One instance of the kernels with its own memory. Typed-array views of the
 * memory are made again after every grow, because a grow detaches them.
 */
export class KernelInstance {
  readonly memory: WebAssembly.Memory;
  readonly kernels: KernelExports;
  /** First byte after static data. */
  readonly base: number;
  /** Bytes at `base` reserved for the caller's input buffer (see inputBuffer). */
  reserved = 0;
  private buffer: ArrayBuffer | SharedArrayBuffer;
  private f32View: Float32Array;
  private f64View: Float64Array;
  private i32View: Int32Array;

  constructor(module: WebAssembly.Module, memory?: WebAssembly.Memory) {
    this.memory = memory ?? new WebAssembly.Memory({ initial: 2, maximum: 65536 });
    const instance = new WebAssembly.Instance(module, { env: { memory: this.memory } });
    this.kernels = instance.exports as unknown as KernelExports;
    this.base = (this.kernels.heapBase() + 63) & ~63;
    this.buffer = this.memory.buffer;
    this.f32View = new Float32Array(this.buffer);
    this.f64View = new Float64Array(this.buffer);
    this.i32View = new Int32Array(this.buffer);
  }

  /** First byte of the region the arena may use, past the input buffer. */
  get arenaBase(): number {
    return this.base + this.reserved;
  }

  /**
   * Returns whether `view` lies inside the reserved input region, so that
   * kernels can read it in place.
   */
  holds(view: ArrayBufferView): boolean {
    return (
      view.buffer === this.memory.buffer &&
      view.byteOffset >= this.base &&
      view.byteOffset + view.byteLength <= this.base + this.reserved
    );
  }

  /** Grows the memory, if needed, so that bytes [0, end) exist. */
  ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE_BYTES);
      try {
        this.memory.grow(pages);
      } catch (error) {
        throw new RangeError(
          `wasm-xent could not grow its WebAssembly memory to ${end} bytes ` +
            `(${String(error)}); pass fewer classes per row.`,
        );
      }
    }
    this.refresh();
  }

  private refresh(): void {
    if (this.buffer !== this.memory.buffer) {
      this.buffer = this.memory.buffer;
      this.f32View = new Float32Array(this.buffer);
      this.f64View = new Float64Array(this.buffer);
      this.i32View = new Int32Array(this.buffer);
    }
  }

  get f32(): Float32Array {
    this.refresh();
    return this.f32View;
  }

  get f64(): Float64Array {
    this.refresh();
    return this.f64View;
  }

  get i32(): Int32Array {
    this.refresh();
    return this.i32View;
  }
}

// NOTE: import plus a first loss takes about 8 ms in Node 20 on the test
// machine (import 4 ms, most of it loading the 180 KB bundle, and 4 ms for the
// first call), above a 5 ms goal. Decoding and compiling take under 1 ms.
let compiled: WebAssembly.Module | undefined;

/** Returns the compiled module, compiling it synchronously on first use. */
export function kernelModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(decodeBase64(wasmBase64));
  return compiled;
}

let shared: KernelInstance | undefined;

/** Returns the instance the public functions use, made on first use. */
export function defaultInstance(): KernelInstance {
  shared ??= new KernelInstance(kernelModule());
  return shared;
}
