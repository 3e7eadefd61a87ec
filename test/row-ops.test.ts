/**
 * logSumExp, logSoftmax and softmax against the float64 reference.
 *
 * Tolerance: every element within rtol 1e-5 of max(1, |reference|), so
 * atol 1e-5 for softmax values. NaN and infinities must match exactly.
 */
import { describe, expect, test } from "vitest";

import { logSoftmax, logSumExp, softmax } from "../src/index.js";
import * as ref from "./reference.js";
import {
  CLASS_COUNTS,
  expectElementsClose,
  seededRandom,
  toNumbers,
  uniform,
} from "./helpers.js";

const ops = [
  {
    name: "logSumExp",
    api: logSumExp,
    reference: ref.logSumExp,
  },
  {
    name: "logSoftmax",
    api: logSoftmax,
    reference: ref.logSoftmax,
  },
  { name: "softmax", api: softmax, reference: ref.softmax },
] as const;

/** Runs one op on nested, Float32Array and Float64Array input and compares. */
function checkOp(
  op: (typeof ops)[number],
  data: Float64Array,
  shape: number[],
  axis: number | undefined,
  label: string,
) {
  const expected = op.reference(ref.tensor(data, shape), axis ?? -1);
  const nested = op.api(
    ref.nest(data, shape) as any,
    axis === undefined ? undefined : { axis },
  );
  if (expected.shape.length > 0) {
    expect(ref.shapeOf(nested as ref.Nested), `${label} nested shape`).toEqual(
      expected.shape,
    );
  }
  expectElementsClose(nested, expected.data, `${label} nested`);
  for (const make of [
    Float32Array.from.bind(Float32Array),
    Float64Array.from.bind(Float64Array),
  ]) {
    const input = make(data);
    const flat = op.api(input, { shape, axis });
    expect(flat, `${label} flat type`).toBeInstanceOf(Float32Array);
    expectElementsClose(
      flat,
      expected.data,
      `${label} ${input.constructor.name}`,
    );
  }
}

describe("row ops against reference", () => {
  for (const op of ops) {
    test(`${op.name} every class count`, () => {
      const random = seededRandom(700);
      for (const classes of CLASS_COUNTS) {
        const data = uniform(random, 7 * classes, -20, 20);
        checkOp(op, data, [7, classes], undefined, `C=${classes}`);
      }
    });

    test(`${op.name} axis 1 on rank 3`, () => {
      const random = seededRandom(701);
      const data = uniform(random, 2 * 5 * 3, -5, 5);
      checkOp(op, data, [2, 5, 3], 1, "axis 1");
      checkOp(op, data, [2, 5, 3], 0, "axis 0");
      checkOp(op, data, [2, 5, 3], -2, "axis -2");
    });

    test(`${op.name} axis 1 across chunks`, () => {
      // About 65536 values per chunk: these split both by slab and inside one.
      const random = seededRandom(706);
      for (const shape of [
        [3, 5, 30000],
        [40, 7, 500],
      ]) {
        const data = uniform(random, ref.product(shape), -10, 10);
        const expected = op.reference(ref.tensor(data, shape), 1);
        const actual = op.api(Float32Array.from(data), { shape, axis: 1 });
        expectElementsClose(actual, expected.data, `[${shape}]`);
      }
    });

    test(`${op.name} edge rows`, () => {
      const rows = [
        [-Infinity, -Infinity, -Infinity, -Infinity],
        [-Infinity, 0, -Infinity, 1],
        [1e30, -1e30, 1e30, 0],
        [-1e30, -1e30, -1e30, -1e30],
        [88.8, 0, 0, 0],
        [-100, 100, 0, 50],
        [1000, -1000, 0, 0],
      ];
      const data = ref.f32(rows.flat());
      checkOp(op, data, [rows.length, 4], undefined, "edges");
    });

    test(`${op.name} one row of 262144`, () => {
      const random = seededRandom(702);
      const data = uniform(random, 262144, -30, 30);
      const expected = op.reference(ref.tensor(data, [1, 262144]));
      const actual = op.api(Float32Array.from(data), { shape: [1, 262144] });
      expectElementsClose(actual, expected.data, "262144");
    });

    test(`${op.name} empty batch`, () => {
      const result = op.api(new Float32Array(0), { shape: [0, 6] });
      expect(result).toBeInstanceOf(Float32Array);
      expect((result as Float32Array).length).toBe(0);
    });
  }
});

describe("row ops IEEE edges", () => {
  test("logSumExp all -Infinity row", () => {
    const lse = toNumbers(logSumExp([[-Infinity, -Infinity, -Infinity]]));
    expect(lse[0]).toBe(-Infinity);
  });

  test("logSumExp propagates +Infinity", () => {
    const lse = toNumbers(
      logSumExp([
        [Infinity, 0, 1],
        [0, -Infinity, Infinity],
      ]),
    );
    expect(lse[0]).toBe(Infinity);
    expect(lse[1]).toBe(Infinity);
  });

  test("logSumExp propagates NaN", () => {
    for (const row of [
      [NaN, 0, 1],
      [0, 1, NaN],
      [Infinity, NaN, 0],
      [-Infinity, NaN, -Infinity],
    ]) {
      const lse = toNumbers(logSumExp([row]));
      expect(lse[0], `row ${row}`).toBeNaN();
    }
  });

  test("softmax propagates NaN", () => {
    for (const values of [
      [NaN, 0, 1, 2, 3],
      [0, 1, 2, 3, NaN],
    ]) {
      const s = toNumbers(softmax([values]));
      expect(s.every(Number.isNaN), `row ${values}`).toBe(true);
    }
  });

  test("softmax all -Infinity row NaN", () => {
    // exp(x - lse) with x = lse = -Infinity is NaN in IEEE arithmetic.
    const s = toNumbers(
      softmax([
        [-Infinity, -Infinity],
        [0, 0],
      ]),
    );
    expect(Number.isNaN(s[0])).toBe(true);
    expect(Number.isNaN(s[1])).toBe(true);
    expect(s.slice(2)).toEqual([0.5, 0.5]);
  });

  test("softmax sums to one", () => {
    const random = seededRandom(703);
    for (const classes of [...CLASS_COUNTS, 1000]) {
      const data = Float32Array.from(uniform(random, 3 * classes, -50, 50));
      const s = softmax(data, { shape: [3, classes] }) as Float32Array;
      for (let r = 0; r < 3; r++) {
        let sum = 0;
        for (let c = 0; c < classes; c++) sum += s[r * classes + c];
        expect(Math.abs(sum - 1), `C=${classes} row ${r}`).toBeLessThanOrEqual(
          1e-5,
        );
      }
    }
  });

  test("logSoftmax equals x minus logSumExp", () => {
    const random = seededRandom(704);
    const data = Float32Array.from(uniform(random, 4 * 9, -10, 10));
    const shape = [4, 9];
    const lsm = logSoftmax(data, { shape }) as Float32Array;
    const lse = logSumExp(data, { shape }) as Float32Array;
    const expected = Float64Array.from(
      data,
      (v, i) => v - lse[Math.floor(i / 9)],
    );
    expectElementsClose(lsm, expected, "x - lse");
  });
});

describe("row ops output buffer", () => {
  for (const op of [ops[1], ops[2]]) {
    test(`${op.name} writes into out`, () => {
      const random = seededRandom(705);
      const out = new Float32Array(12);
      for (let call = 0; call < 3; call++) {
        const data = uniform(random, 12, -3, 3);
        const result = op.api(Float32Array.from(data), { shape: [3, 4], out });
        expect(result, `call ${call}`).toBe(out);
        expectElementsClose(
          out,
          op.reference(ref.tensor(data, [3, 4])).data,
          `call ${call}`,
        );
      }
    });
  }
});
