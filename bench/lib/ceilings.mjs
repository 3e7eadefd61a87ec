// Compiles and loads the ceiling kernels of ceilings/ceilings.ts with the
// root project's AssemblyScript compiler and the library's release flags.

import { execFileSync } from "node:child_process";
import { readFileSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const benchDir = fileURLToPath(new URL("..", import.meta.url));
const source = "ceilings/ceilings.ts";
const output = "ceilings/build/ceilings.wasm";
const ascFlags = [
  "-O3",
  "--converge",
  "--noAssert",
  "--runtime",
  "stub",
  "--enable",
  "simd",
];

/** Floats per chunk when streaming a JavaScript array through linear memory (64 KiB). */
export const CHUNK_FLOATS = 16384;

export function compileCeilings() {
  mkdirSync(new URL("../ceilings/build", import.meta.url), { recursive: true });
  const asc = fileURLToPath(
    new URL("../../node_modules/.bin/asc", import.meta.url),
  );
  execFileSync(asc, [source, "-o", output, ...ascFlags], {
    cwd: benchDir,
    stdio: ["ignore", "inherit", "inherit"],
  });
}

/**
 * Instantiates the ceiling kernels. `bytesNeeded` of linear memory after
 * `dataStart()` are reserved up front, so views taken later stay attached.
 */
export function loadCeilings(bytesNeeded) {
  const bytes = readFileSync(new URL(`../${output}`, import.meta.url));
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
    env: {
      abort() {
        throw new Error("ceiling kernel aborted");
      },
    },
  });
  const start = exports.dataStart();
  const needed = start + bytesNeeded + 64;
  const pages = Math.ceil((needed - exports.memory.buffer.byteLength) / 65536);
  if (pages > 0) exports.memory.grow(pages);
  return { exports, start, buffer: exports.memory.buffer };
}

/**
 * Returns the four ceiling functions for `x`: each reads all of `x` once.
 * "stream" copies `x` in chunks of CHUNK_FLOATS into linear memory and runs
 * the kernel on each chunk, as a library does; "resident" runs the kernel on
 * a copy already in linear memory, in chunks of the same size.
 */
export function ceilingTasks(ceilings, x) {
  const { exports, start, buffer } = ceilings;
  const chunkView = new Float32Array(buffer, start, CHUNK_FLOATS);
  const resident = new Float32Array(buffer, start, x.length);
  const n = x.length;
  const streamed = (kernel) => () => {
    let total = 0;
    for (let i = 0; i < n; i += CHUNK_FLOATS) {
      const len = Math.min(CHUNK_FLOATS, n - i);
      chunkView.set(x.subarray(i, i + len));
      total += kernel(start, len);
    }
    return total;
  };
  const inMemory = (kernel) => () => {
    let total = 0;
    for (let i = 0; i < n; i += CHUNK_FLOATS) {
      total += kernel(start + i * 4, Math.min(CHUNK_FLOATS, n - i));
    }
    return total;
  };
  return {
    memoryStream: { fill: () => {}, run: streamed(exports.sumF32) },
    computeStream: { fill: () => {}, run: streamed(exports.expSumF32) },
    memoryResident: { fill: () => resident.set(x), run: inMemory(exports.sumF32) },
    computeResident: { fill: () => resident.set(x), run: inMemory(exports.expSumF32) },
  };
}

/**
 * Measures the maximum relative error of the vector exp against Math.exp
 * over `points` evenly spaced float32 inputs in [-87, 88].
 */
export function measureExpError(ceilings, points = 1 << 24) {
  const { exports, start, buffer } = ceilings;
  const batch = 1 << 16;
  const src = new Float32Array(buffer, start, batch);
  const dst = new Float32Array(buffer, start + batch * 4, batch);
  let maxRelative = 0;
  let worstInput = 0;
  for (let k = 0; k < points; k += batch) {
    for (let i = 0; i < batch; i++) {
      src[i] = -87 + (175 * (k + i)) / (points - 1);
    }
    exports.expF32(start + batch * 4, start, batch);
    for (let i = 0; i < batch; i++) {
      const exact = Math.exp(src[i]);
      const relative = Math.abs(dst[i] - exact) / exact;
      if (relative > maxRelative) {
        maxRelative = relative;
        worstInput = src[i];
      }
    }
  }
  return { maxRelative, worstInput, points };
}
