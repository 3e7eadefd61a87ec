import { readFileSync } from "node:fs";
import { instantiateSync } from "@assemblyscript/loader";
import { describe, expect, test } from "vitest";
import { logSumExp, sparseCategoricalCrossentropy } from "../src/index.js";
import type { KernelExports } from "../src/instance.js";

// Users who already load AssemblyScript modules with @assemblyscript/loader
// can load build/xent.wasm that way too. The library itself instantiates
// the module with the plain WebAssembly API (see README).
const wasmPath = new URL("../build/xent.wasm", import.meta.url);

function loadWithLoader() {
  const memory = new WebAssembly.Memory({ initial: 16 });
  const { exports } = instantiateSync<Record<string, unknown>>(readFileSync(wasmPath), {
    env: { memory },
  });
  return { kernels: exports as unknown as KernelExports, memory };
}

const logits = [
  [2, 0.5, -1, 0.25, 3],
  [0.3, 0.2, 0.1, -4, 1e30],
  [-Infinity, 0, 0, 1, 2],
];
const labels = [0, 4, 1];

describe("@assemblyscript/loader", () => {
  test("instantiates the shipped module", () => {
    const { kernels } = loadWithLoader();
    expect(typeof kernels.crossentropySparseLogits).toBe("function");
    expect(typeof kernels.logSumExpRows).toBe("function");
  });

  test("log-sum-exp matches the library", () => {
    const { kernels, memory } = loadWithLoader();
    const base = (kernels.heapBase() + 63) & ~63;
    const f32 = new Float32Array(memory.buffer);
    f32.set(logits.flat(), base >>> 2);
    const out = base + 1024;
    const scratch = base + 2048;
    kernels.logSumExpRows(out, base, 3, 5, scratch);
    const viaLoader = Array.from(new Float32Array(memory.buffer, out, 3));
    expect(viaLoader).toEqual(logSumExp(logits));
  });

  test("sparse crossentropy matches the library", () => {
    const { kernels, memory } = loadWithLoader();
    const base = (kernels.heapBase() + 63) & ~63;
    const x = base;
    const labelsPtr = base + 1024;
    const weights = base + 2048;
    const losses = base + 3072;
    const totals = base + 4096;
    const scratch = base + 5120;
    new Float32Array(memory.buffer).set(logits.flat(), x >>> 2);
    new Int32Array(memory.buffer).set(labels, labelsPtr >>> 2);
    new Float32Array(memory.buffer).fill(1, weights >>> 2, (weights >>> 2) + 5);
    const status = kernels.crossentropySparseLogits(
      losses, 0, totals, x, 0, labelsPtr, 0, 0, weights, weights, 3, 5, 0, 0, scratch,
    );
    expect(status).toBe(0);
    const viaLoader = Array.from(new Float32Array(memory.buffer, losses, 3));
    expect(viaLoader).toEqual(sparseCategoricalCrossentropy(labels, logits, { fromLogits: true }));
  });
});
