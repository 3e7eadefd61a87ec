import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, describe, expect, test } from "vitest";

import {
  CsvArrayWriter,
  formatFloat32,
  JsonArrayWriter,
  readCsv,
  readJson,
} from "../../src/cli/text-formats.js";

const workDir = mkdtempSync(join(tmpdir(), "xent-text-test-"));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

function fileWith(name: string, text: string): string {
  const path = join(workDir, name);
  writeFileSync(path, text);
  return path;
}

describe("JSON arrays", () => {
  test("reads nested arrays", () => {
    const path = fileWith(
      "nested.json",
      "[[[1, 2], [3, 4]], [[5, 6], [7, true]]]",
    );
    const array = readJson(path);
    expect(array.shape).toEqual([2, 2, 2]);
    expect(Array.from(array.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 1]);
  });

  test("reads scalar and null", () => {
    expect(readJson(fileWith("scalar.json", "2.5"))).toEqual({
      shape: [],
      data: new Float64Array([2.5]),
    });
    const withNull = readJson(fileWith("null.json", "[1, null]"));
    expect(Number.isNaN(withNull.data[1])).toBe(true);
  });

  test("rejects ragged arrays", () => {
    const path = fileWith("ragged.json", "[[1, 2], [3]]");
    expect(() => readJson(path)).toThrow(
      `${path}: ragged array: [1] is an array of length 1`,
    );
    const deeper = fileWith("deeper.json", "[[1, 2], 3]");
    expect(() => readJson(deeper)).toThrow("[1] is 3");
  });

  test("rejects strings and bad JSON", () => {
    expect(() => readJson(fileWith("string.json", '[1, "2"]'))).toThrow(
      'element [1] is "2"',
    );
    expect(() => readJson(fileWith("bad.json", "[1,"))).toThrow("invalid JSON");
  });

  test("writer round trip", () => {
    for (const shape of [[], [3], [2, 3], [2, 2, 2], [0], [2, 0]]) {
      const size = shape.reduce((a, b) => a * b, 1);
      const values = Array.from({ length: size }, (_, i) => i / 4 - 1);
      const path = join(workDir, "round-trip.json");
      const writer = new JsonArrayWriter(path, shape);
      writer.append(values.slice(0, 1));
      writer.append(values.slice(1));
      writer.close();
      const text = readFileSync(path, "utf8");
      expect(JSON.parse(text), text).toEqual(nest(values, shape));
    }
  });

  test("writer writes null for NaN", () => {
    const path = join(workDir, "nan.json");
    const writer = new JsonArrayWriter(path, [3], { float32: true });
    writer.append(new Float32Array([NaN, Infinity, 0.1]));
    writer.close();
    expect(readFileSync(path, "utf8")).toBe("[null,null,0.1]\n");
  });
});

/** Builds nested arrays from flat values in C order. */
function nest(values: number[], shape: number[]): unknown {
  if (shape.length === 0) return values[0];
  const inner = shape.slice(1).reduce((a, b) => a * b, 1);
  return Array.from({ length: shape[0] }, (_, i) =>
    nest(values.slice(i * inner, (i + 1) * inner), shape.slice(1)),
  );
}

describe("CSV arrays", () => {
  test("reads rows and special values", () => {
    const path = fileWith("rows.csv", "1, 2.5,-3e2\nnan,inf,-Infinity\r\n\n");
    const array = readCsv(path);
    expect(array.shape).toEqual([2, 3]);
    expect(Array.from(array.data)).toEqual([
      1,
      2.5,
      -300,
      NaN,
      Infinity,
      -Infinity,
    ]);
  });

  test("rejects text and ragged lines", () => {
    const header = fileWith("header.csv", "a,b\n1,2\n");
    expect(() => readCsv(header)).toThrow(
      `${header}: line 1, column 1: "a" is not a number.`,
    );
    const empty = fileWith("empty-field.csv", "1,,2\n");
    expect(() => readCsv(empty)).toThrow('column 2: "" is not a number');
    const ragged = fileWith("ragged.csv", "1,2\n3\n");
    expect(() => readCsv(ragged)).toThrow(
      "line 2 has 1 values, but the first row has 2",
    );
  });

  test("writer lines per shape", () => {
    const vectorPath = join(workDir, "vector.csv");
    const vector = new CsvArrayWriter(vectorPath, [3]);
    vector.append([1, NaN, -Infinity]);
    vector.close();
    expect(readFileSync(vectorPath, "utf8")).toBe("1\nnan\n-inf\n");

    const matrixPath = join(workDir, "matrix.csv");
    const matrix = new CsvArrayWriter(matrixPath, [2, 1, 2], { float32: true });
    matrix.append(new Float32Array([0.1, 2]));
    matrix.append(new Float32Array([3, 4.5]));
    matrix.close();
    expect(readFileSync(matrixPath, "utf8")).toBe("0.1,2\n3,4.5\n");
    expect(readCsv(matrixPath).shape).toEqual([2, 2]);
  });

  test("writer rejects short output", () => {
    const writer = new CsvArrayWriter(join(workDir, "short.csv"), [2, 2]);
    writer.append([1, 2, 3]);
    expect(() => writer.close()).toThrow("only 3 were written");
  });
});

describe("formatFloat32", () => {
  test("shortest digits round trip", () => {
    expect(formatFloat32(Math.fround(0.1))).toBe("0.1");
    expect(formatFloat32(Math.fround(2.3025851))).toBe("2.3025851");
    expect(formatFloat32(Math.fround(1e-30))).toBe("1e-30");
    // Seeded linear congruential draws over many magnitudes.
    let state = 12345;
    for (let i = 0; i < 2000; i++) {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      const value = Math.fround(
        (state / 2 ** 31 - 0.5) * 10 ** ((i % 20) - 10),
      );
      expect(Math.fround(Number(formatFloat32(value)))).toBe(value);
    }
  });
});
