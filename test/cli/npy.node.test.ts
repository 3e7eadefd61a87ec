import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { afterAll, describe, expect, test } from "vitest";

import {
  float16BitsToNumber,
  numberToFloat16Bits,
} from "../../src/cli/float16.js";
import {
  NpyFileReader,
  NpyFileWriter,
  readNpy,
  writeNpy,
  type NpyTypedArray,
} from "../../src/cli/npy.js";
import { formatNpyHeader, parseNpyHeader } from "../../src/cli/npy-header.js";

const fixtureDir = fileURLToPath(new URL("../fixtures/npy/", import.meta.url));

interface FixtureEntry {
  descr: string;
  shape?: number[];
  fortranOrder?: boolean;
  version?: number[];
  values?: (number | string | boolean)[];
}

const expected: Record<string, FixtureEntry> = JSON.parse(
  readFileSync(join(fixtureDir, "expected.json"), "utf8"),
);

const workDir = mkdtempSync(join(tmpdir(), "xent-npy-test-"));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** Converts an expected value from the fixture JSON to what the reader returns. */
function expectedElement(
  value: number | string | boolean,
  descr: string,
): number | bigint {
  if (typeof value === "boolean") return value ? 1 : 0;
  if (descr.endsWith("i8") || descr.endsWith("u8")) return BigInt(value);
  if (value === "nan") return NaN;
  if (value === "inf") return Infinity;
  if (value === "-inf") return -Infinity;
  return Number(value);
}

const readable = Object.entries(expected).filter(
  ([name]) => !name.startsWith("reject-"),
);

describe("npy fixtures written by NumPy", () => {
  test("fixture set covers every dtype", () => {
    const names = new Set(readable.map(([, entry]) => entry.descr.slice(1)));
    for (const dtype of [
      "f2",
      "f4",
      "f8",
      "i1",
      "u1",
      "i2",
      "u2",
      "i4",
      "u4",
      "i8",
      "u8",
      "b1",
    ]) {
      expect(names.has(dtype), dtype).toBe(true);
    }
    const versions = new Set(
      readable.map(([, entry]) => entry.version!.join(".")),
    );
    expect([...versions].sort()).toEqual(["1.0", "2.0", "3.0"]);
  });

  test.each(readable)("reads %s", (name, entry) => {
    const array = readNpy(join(fixtureDir, name));
    expect(array.shape).toEqual(entry.shape);
    expect(array.dtype).toBe(entry.descr.slice(1));
    const values = entry.values!;
    expect(array.data.length).toBe(values.length);
    for (let i = 0; i < values.length; i++) {
      const want = expectedElement(values[i], entry.descr);
      const got = array.data[i];
      if (typeof want === "number" && Number.isNaN(want)) {
        expect(Number.isNaN(got), `${name}[${i}]`).toBe(true);
      } else {
        // Object.is distinguishes -0 from 0.
        expect(
          Object.is(got, want),
          `${name}[${i}] is ${got}, expected ${want}`,
        ).toBe(true);
      }
    }
  });

  test("header fields of a version 3 file", () => {
    const reader = NpyFileReader.open(join(fixtureDir, "f4-le-f-v3.npy"));
    try {
      expect(reader.header.version).toBe("3.0");
      expect(reader.header.fortranOrder).toBe(true);
      expect(reader.header.descr).toBe("<f4");
      expect(reader.rowCount).toBe(2);
      expect(reader.rowLength).toBe(12);
    } finally {
      reader.close();
    }
  });

  test.each([
    ["reject-complex.npy", "'<c8' (complex)"],
    ["reject-object.npy", "'|O' (object)"],
    ["reject-unicode.npy", "'<U2' (unicode string)"],
    ["reject-datetime.npy", "'<M8[D]'"],
    ["reject-structured.npy", "(structured)"],
  ])("rejects %s", (name, dtypeText) => {
    const path = join(fixtureDir, name);
    expect(() => readNpy(path)).toThrow(path);
    expect(() => readNpy(path)).toThrow(dtypeText);
  });
});

describe("npy row reader", () => {
  test("Fortran row ranges match C", () => {
    const cArray = readNpy(join(fixtureDir, "f8-be-c-v2.npy"));
    const reader = NpyFileReader.open(join(fixtureDir, "f8-be-f-v2.npy"));
    try {
      const out = new Float64Array(reader.rowLength);
      for (let row = 0; row < reader.rowCount; row++) {
        reader.readRows(row, 1, out);
        const want = cArray.data.subarray(
          row * reader.rowLength,
          (row + 1) * reader.rowLength,
        );
        expect(Array.from(out)).toEqual(Array.from(want as Float64Array));
      }
    } finally {
      reader.close();
    }
  });

  test("rank-4 Fortran row range", () => {
    const reader = NpyFileReader.open(join(fixtureDir, "rank4-f4-be-f.npy"));
    try {
      expect(reader.shape).toEqual([2, 3, 2, 5]);
      const out = new Float32Array(reader.rowLength);
      reader.readRows(1, 1, out);
      // NumPy wrote arange(60).reshape(2, 3, 2, 5) / 8, so row 1 is 30..59 / 8.
      expect(Array.from(out)).toEqual(
        Array.from({ length: 30 }, (_, i) => (30 + i) / 8),
      );
    } finally {
      reader.close();
    }
  });

  test("converts int64 to Float64Array", () => {
    const reader = NpyFileReader.open(join(fixtureDir, "labels-i8.npy"));
    try {
      const asNumbers = reader.readRows(3, 5, new Float64Array(5));
      const asBigints = reader.readRows(3, 5, new BigInt64Array(5));
      expect(Array.from(asNumbers)).toEqual(Array.from(asBigints, Number));
    } finally {
      reader.close();
    }
  });

  test("rejects rows outside the array", () => {
    const reader = NpyFileReader.open(join(fixtureDir, "f4-le-c-v1.npy"));
    try {
      expect(() => reader.readRows(2, 2, new Float32Array(8))).toThrow(
        RangeError,
      );
      expect(() => reader.readRows(0, 2, new Float32Array(7))).toThrow(
        "7 elements",
      );
    } finally {
      reader.close();
    }
  });

  test("rejects a truncated file", () => {
    const path = join(workDir, "truncated.npy");
    const whole = readFileSync(join(fixtureDir, "f8-le-c-v1.npy"));
    writeFileSync(path, whole.subarray(0, whole.length - 8));
    expect(() => readNpy(path)).toThrow(/truncated.*96 bytes of data/);
  });

  test("rejects a file without the magic string", () => {
    const path = join(workDir, "not-npy.npy");
    writeFileSync(path, "x,y\n1,2\n");
    expect(() => readNpy(path)).toThrow(`${path}: not a .npy file`);
  });
});

describe("npy writer", () => {
  const cases: [string, NpyTypedArray | number[]][] = [
    ["f4", new Float32Array([1.5, -0, NaN, Infinity, 3.4028234663852886e38])],
    ["f8", new Float64Array([Math.PI, -1e-300, -Infinity])],
    ["i1", new Int8Array([-128, 0, 127])],
    ["u1", new Uint8Array([0, 255])],
    ["i2", new Int16Array([-32768, 32767])],
    ["u2", new Uint16Array([65535, 1])],
    ["i4", new Int32Array([-(2 ** 31), 2 ** 31 - 1])],
    ["u4", new Uint32Array([2 ** 32 - 1, 0])],
    ["i8", new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n])],
    ["u8", new BigUint64Array([2n ** 64n - 1n, 0n])],
  ];

  test.each(cases)("round trip %s", (dtype, data) => {
    for (const order of ["<", ">"]) {
      const path = join(workDir, `round-trip-${dtype}.npy`);
      writeNpy(path, data, [data.length], { dtype: `${order}${dtype}` });
      const array = readNpy(path);
      expect(array.dtype).toBe(dtype);
      expect(array.shape).toEqual([data.length]);
      expect(Array.from(array.data as ArrayLike<number>)).toEqual(
        Array.from(data as ArrayLike<number>),
      );
    }
  });

  test("round trip f2 and b1", () => {
    const halfPath = join(workDir, "half.npy");
    writeNpy(halfPath, [0.1, 65504, 70000, -(2 ** -24), NaN], [5], {
      dtype: ">f2",
    });
    const half = Array.from(readNpy(halfPath).data as Float32Array);
    expect(half.slice(0, 4)).toEqual([
      0.0999755859375,
      65504,
      Infinity,
      -(2 ** -24),
    ]);
    expect(Number.isNaN(half[4])).toBe(true);

    const boolPath = join(workDir, "bool.npy");
    writeNpy(boolPath, [0, 2, 1, 0], [2, 2], { dtype: "b1" });
    const bool = readNpy(boolPath);
    expect(bool.shape).toEqual([2, 2]);
    expect(Array.from(bool.data as Uint8Array)).toEqual([0, 1, 1, 0]);
  });

  test("header matches NumPy byte for byte", () => {
    // NumPy 2.4 wrote this file; its header pads the dict to 128 bytes.
    const file = readFileSync(join(fixtureDir, "f4-le-c-v1.npy"));
    const header = formatNpyHeader("<f4", false, [3, 4]);
    expect(Buffer.from(header)).toEqual(file.subarray(0, header.length));
    expect(parseNpyHeader(header, "header").dataOffset).toBe(header.length);
  });

  test("writes 0-d and empty arrays", () => {
    const scalarPath = join(workDir, "scalar.npy");
    writeNpy(scalarPath, new Float64Array([2.5]), []);
    expect(readNpy(scalarPath)).toEqual({
      shape: [],
      dtype: "f8",
      data: new Float64Array([2.5]),
    });
    const emptyPath = join(workDir, "empty.npy");
    writeNpy(emptyPath, new Float32Array(0), [0, 7]);
    expect(readNpy(emptyPath).shape).toEqual([0, 7]);
  });

  test("rejects values outside the dtype", () => {
    const path = join(workDir, "bad.npy");
    expect(() => writeNpy(path, [1, 300], [2], { dtype: "u1" })).toThrow(
      "element 1 is 300",
    );
    expect(() => writeNpy(path, [1.5], [1], { dtype: "i4" })).toThrow(
      "not an integer",
    );
    expect(() => writeNpy(path, [1, 2], [3])).toThrow("shape (3,) has 3");
  });

  test("incremental writer checks count", () => {
    const path = join(workDir, "parts.npy");
    const writer = NpyFileWriter.create(path, [3, 2]);
    writer.append(new Float32Array([1, 2]));
    writer.append([3, 4]);
    expect(() => writer.close()).toThrow("only 4 were written");
    const complete = NpyFileWriter.create(path, [3, 2]);
    complete.append(new Float32Array([1, 2, 3, 4]));
    complete.append(new Float64Array([5, 6]));
    expect(() => complete.append([7])).toThrow(RangeError);
    complete.close();
    expect(Array.from(readNpy(path).data as Float32Array)).toEqual([
      1, 2, 3, 4, 5, 6,
    ]);
  });
});

describe("float16 conversion", () => {
  test("every float16 survives a round trip", () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const value = float16BitsToNumber(bits);
      if (Number.isNaN(value)) {
        expect(bits & 0x7c00).toBe(0x7c00);
        expect(bits & 0x3ff).not.toBe(0);
        continue;
      }
      expect(numberToFloat16Bits(value)).toBe(bits);
    }
  });

  test("rounds halfway cases to even", () => {
    // 1 + 2^-11 lies halfway between 1 and 1 + 2^-10: even is 1.
    expect(numberToFloat16Bits(1 + 2 ** -11)).toBe(0x3c00);
    // 1 + 3 * 2^-11 lies halfway between 1 + 2^-10 and 1 + 2^-9: even is the upper.
    expect(numberToFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    // Half the smallest subnormal rounds to zero, a bit more rounds up.
    expect(numberToFloat16Bits(2 ** -25)).toBe(0);
    expect(numberToFloat16Bits(2 ** -25 * 1.5)).toBe(1);
    // 65520 is halfway between 65504 and the next step, which overflows.
    expect(numberToFloat16Bits(65519)).toBe(0x7bff);
    expect(numberToFloat16Bits(65520)).toBe(0x7c00);
  });
});
