/**
 * What differs in a browser: Chromium's size limit on synchronous
 * WebAssembly compilation on the main thread, Vite's stubs for Node
 * built-ins, and large batches in a page's memory.
 */
import { describe, expect, test } from "vitest";

import { logSumExp, sparseCategoricalCrossentropy } from "../../src/index.js";
import { defaultInstance } from "../../src/instance.js";
import { wasmBase64 } from "../../src/wasm-bytes.generated.js";

const MiB = 1024 * 1024;

// Chromium rejects `new WebAssembly.Module(bytes)` on the main thread when
// bytes is larger than this (checked in Chromium 156). Larger modules need
// the asynchronous WebAssembly.compile.
const mainThreadCompileLimit = 8 * MiB;

/** Builds a valid, empty WebAssembly module padded to `size` bytes by a custom section. */
function paddedModule(size: number): Uint8Array<ArrayBuffer> {
  const header = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  // Custom section: id 0, then its size as a 5-byte LEB128, then the name
  // length (1) and the name "x", then the padding.
  const sectionSize = size - header.length - 1 - 5;
  const leb = [0, 7, 14, 21, 28].map(
    (shift, i) => ((sectionSize >>> shift) & 0x7f) | (i < 4 ? 0x80 : 0),
  );
  const bytes = new Uint8Array(size);
  bytes.set([...header, 0x00, ...leb, 0x01, 0x78]);
  return bytes;
}

describe("main-thread compile limit", () => {
  test("limit applies in this Chromium", async () => {
    const small = paddedModule(mainThreadCompileLimit - MiB);
    const large = paddedModule(mainThreadCompileLimit + MiB);

    expect(new WebAssembly.Module(small)).toBeInstanceOf(WebAssembly.Module);
    expect(() => new WebAssembly.Module(large)).toThrow(RangeError);
    await expect(WebAssembly.compile(large)).resolves.toBeInstanceOf(
      WebAssembly.Module,
    );
  });

  test("shipped wasm well below limit", () => {
    const wasm = Uint8Array.from(atob(wasmBase64), (char) =>
      char.charCodeAt(0),
    );
    expect(wasm.byteLength).toBeGreaterThan(0);
    expect(wasm.byteLength).toBeLessThan(mainThreadCompileLimit / 8);
    expect(new WebAssembly.Module(wasm)).toBeInstanceOf(WebAssembly.Module);
  });
});

test("import loads no Node built-in", () => {
  // Vite serves an import of a Node built-in as a stub module whose URL
  // contains __vite-browser-external, so such an import shows in the list
  // of resources the page loaded. This file imports the library statically.
  const urls = performance
    .getEntriesByType("resource")
    .map((entry) => entry.name);
  expect(urls.some((url) => url.includes("/src/index.ts"))).toBe(true);
  expect(urls.filter((url) => url.includes("__vite-browser-external"))).toEqual(
    [],
  );
  expect(urls.filter((url) => url.includes("node:"))).toEqual([]);
});

describe("large batch", () => {
  const batchSize = 64;
  const numClasses = 262_144;

  // A [64, 262144] batch: 64 MiB of float32 logits, far more than one chunk
  // of the library's bounded region of linear memory.
  const logits = new Float32Array(batchSize * numClasses);
  const labels = new Int32Array(batchSize);
  let state = 0x2545f491;
  const nextUniform = () => {
    // xorshift32, seeded above.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  for (let i = 0; i < logits.length; i++) logits[i] = nextUniform() * 20 - 10;
  for (let row = 0; row < batchSize; row++) {
    labels[row] = Math.floor(nextUniform() * numClasses);
  }

  // Float64 log-sum-exp of each row, for reference.
  const referenceLse = new Float64Array(batchSize);
  for (let row = 0; row < batchSize; row++) {
    const offset = row * numClasses;
    let max = -Infinity;
    for (let c = 0; c < numClasses; c++) {
      max = Math.max(max, logits[offset + c]);
    }
    let sum = 0;
    for (let c = 0; c < numClasses; c++) {
      sum += Math.exp(logits[offset + c] - max);
    }
    referenceLse[row] = max + Math.log(sum);
  }

  const shape = [batchSize, numClasses];

  // The library streams rows through a bounded region of its memory, so the
  // memory stays far below the 64 MiB of input.
  const expectBoundedMemory = () => {
    const memoryBytes = defaultInstance().memory.buffer.byteLength;
    expect(memoryBytes).toBeLessThan(logits.byteLength / 4);
  };

  test("sparse crossentropy per row", () => {
    const losses = sparseCategoricalCrossentropy(labels, logits, {
      fromLogits: true,
      shape,
    }) as Float32Array;
    expect(losses).toBeInstanceOf(Float32Array);
    expect(losses).toHaveLength(batchSize);
    for (let row = 0; row < batchSize; row++) {
      const expected =
        referenceLse[row] - logits[row * numClasses + labels[row]];
      const tolerance = 1e-5 * Math.max(1, Math.abs(expected));
      expect(Math.abs(losses[row] - expected), `row ${row}`).toBeLessThan(
        tolerance,
      );
    }
    expectBoundedMemory();
  });

  test("logSumExp per row", () => {
    const lse = logSumExp(logits, { shape }) as Float32Array;
    expect(lse).toHaveLength(batchSize);
    for (let row = 0; row < batchSize; row++) {
      const expected = referenceLse[row];
      const tolerance = 1e-5 * Math.max(1, Math.abs(expected));
      expect(Math.abs(lse[row] - expected), `row ${row}`).toBeLessThan(
        tolerance,
      );
    }
    expectBoundedMemory();
  });
});
