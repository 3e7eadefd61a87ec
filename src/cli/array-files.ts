// Array files by extension: .npy (streamed), .csv and .json (read whole).

import { extname } from "node:path";

import { NpyFileReader, NpyFileWriter } from "./npy.js";
import {
  CsvArrayWriter,
  JsonArrayWriter,
  readCsv,
  readJson,
  type ArrayWriter,
  type DenseArray,
} from "./text-formats.js";

export const ARRAY_EXTENSIONS = [".npy", ".csv", ".json"];

/** An array read in ranges of its first axis ("rows"), in C order. */
export interface RowSource {
  readonly path: string;
  readonly shape: readonly number[];
  /** Length of the first axis; 1 for a 0-d array. */
  readonly rowCount: number;
  /** Elements in one row: the product of `shape[1:]`. */
  readonly rowLength: number;
  /** Fills `out[0 .. count * rowLength)` with rows `[start, start + count)`. */
  readRows(
    start: number,
    count: number,
    out: Float32Array | Float64Array,
  ): void;
  close(): void;
}

/** Returns `path`'s extension in lower case if it names a supported array format. */
export function arrayFormat(path: string): string | undefined {
  const extension = extname(path).toLowerCase();
  return ARRAY_EXTENSIONS.includes(extension) ? extension : undefined;
}

function requireFormat(path: string): string {
  const format = arrayFormat(path);
  if (format === undefined) {
    throw new Error(
      `${path}: unknown file type '${extname(path)}'; use .npy, .csv or .json.`,
    );
  }
  return format;
}

/** Opens an array file. A .npy file is read on demand, the others are read whole now. */
export function openRowSource(path: string): RowSource {
  if (requireFormat(path) === ".npy") {
    return NpyFileReader.open(path);
  }
  return new DenseRowSource(path, readDenseArray(path));
}

/** Reads a whole array file as float64 values in C order. */
export function readDenseArray(path: string): DenseArray {
  const format = requireFormat(path);
  if (format === ".json") {
    return readJson(path);
  }
  if (format === ".csv") {
    return readCsv(path);
  }
  const reader = NpyFileReader.open(path);
  try {
    const data = new Float64Array(reader.rowCount * reader.rowLength);
    reader.readRows(0, reader.rowCount, data);
    return { shape: [...reader.shape], data };
  } finally {
    reader.close();
  }
}

/**
 * Creates a writer for an array of `shape` in the format of `path`'s
 * extension: float32 .npy, or text with the shortest float32 digits.
 */
export function createArrayWriter(
  path: string,
  shape: readonly number[],
): ArrayWriter {
  const format = requireFormat(path);
  if (format === ".npy") {
    return NpyFileWriter.create(path, shape, "f4");
  }
  if (format === ".csv") {
    return new CsvArrayWriter(path, shape, { float32: true });
  }
  return new JsonArrayWriter(path, shape, { float32: true });
}

class DenseRowSource implements RowSource {
  readonly shape: readonly number[];
  readonly rowCount: number;
  readonly rowLength: number;
  private readonly data: Float64Array;

  constructor(
    readonly path: string,
    array: DenseArray,
  ) {
    this.shape = array.shape;
    this.data = array.data;
    this.rowCount = array.shape.length === 0 ? 1 : array.shape[0];
    this.rowLength = array.shape.slice(1).reduce((a, b) => a * b, 1);
  }

  readRows(
    start: number,
    count: number,
    out: Float32Array | Float64Array,
  ): void {
    out.set(
      this.data.subarray(
        start * this.rowLength,
        (start + count) * this.rowLength,
      ),
    );
  }

  close(): void {}
}
