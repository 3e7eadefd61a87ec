import { describe, expect, test } from "vitest";
import {
  inputBuffer,
  logSumExp,
  sparseCategoricalCrossentropy,
  sparseCategoricalCrossentropyWithGrad,
} from "../src/index.js";

// Rows that span several 256 KiB chunks, so the in-place path streams too.
const rows = 300;
const classes = 1000;

function fill(target: Float32Array): void {
  for (let i = 0; i < target.length; i++) target[i] = Math.sin(i * 0.731) * 4;
}

describe("inputBuffer", () => {
  test("in-place losses equal copied losses", () => {
    const copy = new Float32Array(rows * classes);
    fill(copy);
    const labels = Int32Array.from({ length: rows }, (_, i) => (i * 37) % classes);
    const expected = sparseCategoricalCrossentropy(labels, copy, { fromLogits: true, shape: [rows, classes] });
    const buffer = inputBuffer(rows * classes);
    buffer.set(copy);
    const actual = sparseCategoricalCrossentropy(labels, buffer, { fromLogits: true, shape: [rows, classes] });
    expect(actual).toEqual(expected);
  });

  test("in-place log-sum-exp equals copied", () => {
    const copy = new Float32Array(rows * classes);
    fill(copy);
    const buffer = inputBuffer(rows * classes);
    buffer.set(copy);
    expect(logSumExp(buffer, { shape: [rows, classes] })).toEqual(logSumExp(copy, { shape: [rows, classes] }));
  });

  test("gradient leaves the buffer unchanged", () => {
    const copy = new Float32Array(rows * classes);
    fill(copy);
    const labels = Int32Array.from({ length: rows }, (_, i) => (i * 11) % classes);
    const buffer = inputBuffer(rows * classes);
    buffer.set(copy);
    const expected = sparseCategoricalCrossentropyWithGrad(labels, copy, {
      fromLogits: true,
      shape: [rows, classes],
      reduction: "mean",
    });
    const actual = sparseCategoricalCrossentropyWithGrad(labels, buffer, {
      fromLogits: true,
      shape: [rows, classes],
      reduction: "mean",
    });
    expect(actual.loss).toBe(expected.loss);
    expect(actual.grad).toEqual(expected.grad);
    expect(inputBuffer(rows * classes)).toEqual(copy);
  });

  test("growing keeps the values", () => {
    const small = inputBuffer(8);
    small.set([1, 2, 3, 4, 5, 6, 7, 8]);
    const large = inputBuffer(4 * 1024 * 1024);
    expect(Array.from(large.subarray(0, 8))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(small.length).toBe(0);
  });

  test("invalid length is rejected", () => {
    expect(() => inputBuffer(-1)).toThrow(RangeError);
    expect(() => inputBuffer(1.5)).toThrow(/integer/);
  });
});
