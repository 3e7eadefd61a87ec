/**
 * The library compiles its WebAssembly synchronously from bytes inlined in
 * the JavaScript, so importing it fetches nothing and starts no asynchronous
 * compile. Runs in Node and in Chromium.
 */
import { afterEach, expect, test, vi } from "vitest";

afterEach(() => {
  vi.restoreAllMocks();
});

test("import fetches nothing", async () => {
  const spies = new Map<string, { mock: { calls: unknown[] } }>([
    ["fetch", vi.spyOn(globalThis, "fetch")],
    ["WebAssembly.compile", vi.spyOn(WebAssembly, "compile")],
    ["WebAssembly.instantiate", vi.spyOn(WebAssembly, "instantiate")],
    ["WebAssembly.compileStreaming", vi.spyOn(WebAssembly, "compileStreaming")],
    [
      "WebAssembly.instantiateStreaming",
      vi.spyOn(WebAssembly, "instantiateStreaming"),
    ],
  ]);
  if (typeof XMLHttpRequest !== "undefined") {
    spies.set(
      "XMLHttpRequest.open",
      vi.spyOn(XMLHttpRequest.prototype, "open"),
    );
  }

  // A dynamic import, so that the spies are in place before the module
  // graph of the library is evaluated.
  const library = await import("../../src/index.js");
  const losses = library.sparseCategoricalCrossentropy([2], [[1, 2, 3]], {
    fromLogits: true,
  }) as number[];

  // log(e^1 + e^2 + e^3) - 3, in float64.
  expect(losses[0]).toBeCloseTo(0.40760596, 6);
  for (const [name, spy] of spies) {
    expect(spy.mock.calls, `calls to ${name}`).toEqual([]);
  }
});
