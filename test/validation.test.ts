import { describe, expect, test } from "vitest";
import {
  categoricalCrossentropy,
  inputBuffer,
  reduceTotals,
  softmax,
  sparseCategoricalCrossentropy,
  sparseCategoricalCrossentropyWithGrad,
} from "../src/index.js";
import type { LossTotals } from "../src/index.js";

const logits = [
  [1, 2, 3],
  [4, 5, 6],
];

describe("option and value types", () => {
  test("string in nested yPred", () => {
    const strings = [["1", "2", "3"], ["4", "5", "6"]] as unknown as number[][];
    expect(() => sparseCategoricalCrossentropy([0, 1], strings)).toThrow(TypeError);
    expect(() => sparseCategoricalCrossentropy([0, 1], strings)).toThrow(/the string "1" at flat index 0/);
  });

  test("null in nested yPred", () => {
    const withNull = [[1, null, 3], [4, 5, 6]] as unknown as number[][];
    expect(() => sparseCategoricalCrossentropy([0, 1], withNull)).toThrow(/yPred contains null at flat index 1/);
  });

  test("string labels", () => {
    const labels = ["0", "1"] as unknown as number[];
    expect(() => sparseCategoricalCrossentropy(labels, logits)).toThrow(/labels\[0\] is the string "0"/);
  });

  test("boolean labels", () => {
    const labels = [true, false] as unknown as number[];
    expect(() => sparseCategoricalCrossentropy(labels, logits)).toThrow(TypeError);
  });

  test("shape contradicting nested data", () => {
    expect(() => sparseCategoricalCrossentropy([0, 1], logits, { shape: [3, 2] })).toThrow(RangeError);
    expect(() => sparseCategoricalCrossentropy([0, 1], logits, { shape: [3, 2] })).toThrow(/nested array of shape \[2, 3\]/);
  });

  test("misspelled option name", () => {
    const options = { fromLogit: true } as unknown as { fromLogits: boolean };
    expect(() => sparseCategoricalCrossentropy([0, 1], logits, options)).toThrow(/did you mean fromLogits/);
  });

  test("string axis", () => {
    const options = { axis: "1" } as unknown as { axis: number };
    expect(() => sparseCategoricalCrossentropy([0, 1], logits, options)).toThrow(TypeError);
    expect(() => sparseCategoricalCrossentropy([0, 1], logits, options)).toThrow(/the string "1"/);
  });

  test("string label smoothing", () => {
    const options = { labelSmoothing: "0.1" } as unknown as { labelSmoothing: number };
    expect(() => sparseCategoricalCrossentropy([0, 1], logits, options)).toThrow(TypeError);
  });

  test("string sample weight", () => {
    const options = { sampleWeight: "1" } as unknown as { sampleWeight: number };
    expect(() => sparseCategoricalCrossentropy([0, 1], logits, options)).toThrow(/options.sampleWeight is the string "1"/);
  });

  test("NaN mask entry", () => {
    expect(() => sparseCategoricalCrossentropy([0, 1], logits, { mask: [NaN, 1] })).toThrow(/options.mask\[0\] is NaN/);
  });

  test("reduceTotals without totals", () => {
    expect(() => reduceTotals(null as unknown as LossTotals, "mean")).toThrow(TypeError);
    expect(() => reduceTotals({ sum: 1 } as LossTotals, "mean")).toThrow(/totals.count/);
  });

  test("out of the wrong length", () => {
    const out = new Float32Array(5);
    expect(() => sparseCategoricalCrossentropyWithGrad([0, 1], logits, { out })).toThrow(RangeError);
  });

  test("flat yTrue beside nested yPred", () => {
    const losses = categoricalCrossentropy(new Float32Array([1, 0, 0, 0, 1, 0]), logits, { fromLogits: true });
    const expected = sparseCategoricalCrossentropy([0, 1], logits, { fromLogits: true }) as number[];
    expect((losses as number[])[0]).toBeCloseTo(expected[0], 6);
    expect((losses as number[])[1]).toBeCloseTo(expected[1], 6);
  });
});

describe("views of the module memory", () => {
  // Rows this long need a larger arena than any earlier call, so the call
  // grows the memory and detaches every older view.
  const rows = 2;
  const classes = 400_000;
  const long = new Float32Array(rows * classes).map((_, i) => Math.sin(i));

  test("labels and mask in the input buffer", () => {
    const expected = sparseCategoricalCrossentropy(Int32Array.of(5, 7), long, {
      fromLogits: true,
      shape: [rows, classes],
      mask: [1, 0],
    });
    const buffer = inputBuffer(4);
    buffer.set([5, 7, 1, 0]);
    const actual = sparseCategoricalCrossentropy(buffer.subarray(0, 2), long, {
      fromLogits: true,
      shape: [rows, classes],
      mask: buffer.subarray(2, 4),
    });
    expect(actual).toEqual(expected);
  });

  test("softmax of the input buffer", () => {
    const expected = softmax(long, { shape: [rows, classes] });
    const buffer = inputBuffer(rows * classes);
    buffer.set(long);
    expect(softmax(buffer, { shape: [rows, classes] })).toEqual(expected);
  });

  test("out in the input buffer", () => {
    const out = inputBuffer(6);
    expect(() => sparseCategoricalCrossentropyWithGrad([0, 1], logits, { out })).toThrow(/wasm-xent's own memory/);
  });

  test("detached view names the fix", () => {
    const stale = inputBuffer(4);
    inputBuffer(8 * 1024 * 1024);
    expect(() => sparseCategoricalCrossentropy([0], stale, { shape: [1, 4] })).toThrow(/call inputBuffer\(\) again/);
  });
});
