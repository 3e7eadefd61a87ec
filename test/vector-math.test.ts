import { describe, expect, test } from "vitest";
import { KernelInstance, kernelModule } from "../src/instance.js";

// These sweeps check the error bounds stated above vexp and vlog in
// assembly/inline/vmath.ts (measured there at 2^22 arguments). Every f32
// value in a range would be 2^31 calls, so each sweep takes 2^20 evenly
// spaced arguments plus the edges.
const SWEEP = 1 << 20;

const instance = new KernelInstance(kernelModule());
const input = instance.base;
const output = input + SWEEP * 4;
instance.ensure(output + SWEEP * 4);

function run(kernel: "expValues" | "logValues", values: Float32Array): Float32Array {
  instance.f32.set(values, input >>> 2);
  instance.kernels[kernel](output, input, values.length);
  return instance.f32.slice(output >>> 2, (output >>> 2) + values.length);
}

function sweep(low: number, high: number): Float32Array {
  const values = new Float32Array(SWEEP);
  for (let i = 0; i < SWEEP; i++) values[i] = low + ((high - low) * i) / (SWEEP - 1);
  return values;
}

function logSweep(low: number, high: number): Float32Array {
  const values = new Float32Array(SWEEP);
  const a = Math.log(low);
  const b = Math.log(high);
  for (let i = 0; i < SWEEP; i++) values[i] = Math.exp(a + ((b - a) * i) / (SWEEP - 1));
  return values;
}

describe("vector exp", () => {
  test("relative error over [-87.3, 88]", () => {
    const values = sweep(-87.3, 88);
    const result = run("expValues", values);
    let worst = 0;
    for (let i = 0; i < values.length; i++) {
      const exact = Math.exp(values[i]);
      worst = Math.max(worst, Math.abs(result[i] - exact) / exact);
    }
    expect(worst).toBeLessThanOrEqual(2e-7);
  });

  test("relative error near 0", () => {
    const values = sweep(-1, 1);
    const result = run("expValues", values);
    let worst = 0;
    for (let i = 0; i < values.length; i++) {
      const exact = Math.exp(values[i]);
      worst = Math.max(worst, Math.abs(result[i] - exact) / exact);
    }
    expect(worst).toBeLessThanOrEqual(2e-7);
  });

  test("special arguments", () => {
    const values = Float32Array.of(-Infinity, -1000, -88, 0, -0, 88, 89, 1000);
    const result = run("expValues", values);
    expect(result[0]).toBe(0);
    expect(result[1]).toBe(0);
    expect(result[2]).toBe(0);
    expect(result[3]).toBe(1);
    expect(result[4]).toBe(1);
    expect(Math.abs(result[5] - Math.exp(88)) / Math.exp(88)).toBeLessThan(3e-7);
    expect(Number.isFinite(result[6])).toBe(true);
    expect(Number.isFinite(result[7])).toBe(true);
  });
});

describe("vector log", () => {
  test("absolute error over [0.5, 2]", () => {
    const values = sweep(0.5, 2);
    const result = run("logValues", values);
    let worst = 0;
    for (let i = 0; i < values.length; i++) {
      worst = Math.max(worst, Math.abs(result[i] - Math.log(values[i])));
    }
    expect(worst).toBeLessThanOrEqual(5e-8);
  });

  test("relative error over normal floats", () => {
    const values = logSweep(1.2e-38, 3.4e38);
    const result = run("logValues", values);
    let worst = 0;
    for (let i = 0; i < values.length; i++) {
      const exact = Math.log(values[i]);
      if (Math.abs(exact) < 0.7) continue;
      worst = Math.max(worst, Math.abs(result[i] - exact) / Math.abs(exact));
    }
    expect(worst).toBeLessThanOrEqual(1e-7);
  });

  test("zero gives -Infinity", () => {
    const result = run("logValues", Float32Array.of(0, 1, 1e-7, 0.99999988));
    expect(result[0]).toBe(-Infinity);
    expect(result[1]).toBe(0);
    expect(Math.abs(result[2] - Math.log(Math.fround(1e-7)))).toBeLessThan(2e-6);
    expect(Math.abs(result[3] - Math.log(Math.fround(0.99999988)))).toBeLessThan(1.2e-7);
  });
});
