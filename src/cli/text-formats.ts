// JSON (nested arrays) and CSV (one row per line) reading and writing for
// small arrays. Both readers hold the whole file in memory; the writers
// append rows, so a long output is written in bounded memory.

import { closeSync, openSync, readFileSync, writeSync } from "node:fs";

/** An array of numbers in C order with its shape. */
export interface DenseArray {
  shape: number[];
  data: Float64Array;
}

/**
 * Reads a JSON file holding a number or nested arrays of numbers. `true`
 * and `false` read as 1 and 0, `null` as NaN (the JSON writer's spelling of
 * a non-finite value).
 *
 * @throws Error naming the file for invalid JSON, a ragged array or a
 *   value that is not a number.
 */
export function readJson(path: string): DenseArray {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code) {
      throw error;
    }
    throw new Error(`${path}: invalid JSON: ${(error as Error).message}`);
  }
  const shape: number[] = [];
  for (let level: unknown = value; Array.isArray(level); level = level[0]) {
    shape.push(level.length);
    if (level.length === 0) {
      break;
    }
  }
  const data = new Float64Array(shape.reduce((a, b) => a * b, 1));
  let next = 0;

  const visit = (node: unknown, depth: number, where: string): void => {
    if (depth === shape.length) {
      data[next++] = jsonNumber(node, path, where);
      return;
    }
    if (!Array.isArray(node) || node.length !== shape[depth]) {
      const found = Array.isArray(node)
        ? `an array of length ${node.length}`
        : JSON.stringify(node);
      throw new Error(
        `${path}: ragged array: ${where || "the top level"} is ${found}, ` +
          `but the first array at that depth has length ${shape[depth]}.`,
      );
    }
    node.forEach((child, i) => visit(child, depth + 1, `${where}[${i}]`));
  };
  visit(value, 0, "");
  return { shape, data };
}

function jsonNumber(node: unknown, path: string, where: string): number {
  if (typeof node === "number") return node;
  if (typeof node === "boolean") return node ? 1 : 0;
  if (node === null) return NaN;
  throw new Error(
    `${path}: element ${where || "at the top level"} is ${JSON.stringify(node)}, but only numbers, booleans and null are allowed.`,
  );
}

/**
 * Reads a CSV file of numbers, one row per line, values separated by commas
 * (spaces around them are ignored). Blank lines are skipped. Besides decimal
 * numbers it accepts `nan`, `inf`, `-inf`, `infinity` in any case, and
 * `true`/`false`. The shape is always `[lines, valuesPerLine]`.
 *
 * @throws Error naming the file, line and column for a value that is not a
 *   number, or for lines of different lengths.
 */
export function readCsv(path: string): DenseArray {
  const lines = readFileSync(path, "utf8").split(/\r?\n/);
  const rows: number[][] = [];
  lines.forEach((line, lineIndex) => {
    if (line.trim() === "") {
      return;
    }
    const fields = line.split(",");
    const row = fields.map((field, column) =>
      parseCsvNumber(field, path, lineIndex + 1, column + 1),
    );
    if (rows.length > 0 && row.length !== rows[0].length) {
      throw new Error(
        `${path}: line ${lineIndex + 1} has ${row.length} values, but the first row has ${rows[0].length}.`,
      );
    }
    rows.push(row);
  });
  const columns = rows.length > 0 ? rows[0].length : 0;
  const data = new Float64Array(rows.length * columns);
  rows.forEach((row, i) => data.set(row, i * columns));
  return { shape: [rows.length, columns], data };
}

function parseCsvNumber(
  field: string,
  path: string,
  line: number,
  column: number,
): number {
  const text = field.trim();
  const lower = text.toLowerCase();
  switch (lower.replace(/^\+/, "")) {
    case "nan":
    case "-nan":
      return NaN;
    case "inf":
    case "infinity":
      return Infinity;
    case "-inf":
    case "-infinity":
      return -Infinity;
    case "true":
      return 1;
    case "false":
      return 0;
  }
  const value = text === "" ? NaN : Number(text);
  if (Number.isNaN(value)) {
    throw new Error(
      `${path}: line ${line}, column ${column}: ${JSON.stringify(text)} is not a number.`,
    );
  }
  return value;
}

/**
 * Formats a float32 value with the fewest digits that read back to the same
 * float32, so 0.1f prints as 0.1 and not 0.10000000149011612.
 */
export function formatFloat32(value: number): string {
  if (!Number.isFinite(value) || Number.isInteger(value)) {
    return String(value);
  }
  for (let digits = 1; digits < 9; digits++) {
    const text = value.toPrecision(digits);
    if (Math.fround(Number(text)) === value) {
      return String(Number(text));
    }
  }
  return String(Number(value.toPrecision(9)));
}

/** Formats a value for CSV: NumPy's spelling `nan`, `inf`, `-inf` for non-finite values. */
function formatCsvValue(value: number, float32: boolean): string {
  if (Number.isNaN(value)) return "nan";
  if (value === Infinity) return "inf";
  if (value === -Infinity) return "-inf";
  return float32 ? formatFloat32(value) : String(value);
}

/** Formats a value for JSON: `null` for NaN and infinities, which JSON cannot hold. */
function formatJsonValue(value: number, float32: boolean): string {
  if (!Number.isFinite(value)) return "null";
  return float32 ? formatFloat32(value) : String(value);
}

/** Options of the text writers. */
export interface TextWriterOptions {
  /** Print each value with the fewest digits that identify its float32. @default false */
  float32?: boolean;
}

/** Buffers text and writes it to a file descriptor in blocks of about 1 MiB. */
class TextSink {
  private fd: number;
  private pending: string[] = [];
  private pendingLength = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, "w");
  }

  write(text: string): void {
    this.pending.push(text);
    this.pendingLength += text.length;
    if (this.pendingLength >= 1 << 20) {
      this.flush();
    }
  }

  flush(): void {
    if (this.pending.length > 0) {
      writeSync(this.fd, this.pending.join(""));
      this.pending = [];
      this.pendingLength = 0;
    }
  }

  close(): void {
    if (this.fd >= 0) {
      this.flush();
      closeSync(this.fd);
      this.fd = -1;
    }
  }

  abort(): void {
    if (this.fd >= 0) {
      closeSync(this.fd);
      this.fd = -1;
    }
  }
}

/** Writes an array of a shape known in advance, appended in C order. */
export interface ArrayWriter {
  append(values: ArrayLike<number>): void;
  /** Finishes the file. @throws Error when fewer values were appended than the shape holds. */
  close(): void;
  /** Closes the file after an error, without finishing it. */
  abort(): void;
}

/**
 * Writes CSV: a 0-d or 1-d array one value per line, a higher-rank array
 * one line per index of the first axis, holding the rest in C order.
 */
export class CsvArrayWriter implements ArrayWriter {
  private sink: TextSink;
  private readonly lineLength: number;
  private readonly total: number;
  private column = 0;
  private written = 0;

  constructor(
    path: string,
    readonly shape: readonly number[],
    private readonly options: TextWriterOptions = {},
  ) {
    this.lineLength =
      shape.length <= 1 ? 1 : shape.slice(1).reduce((a, b) => a * b, 1);
    this.total = shape.reduce((a, b) => a * b, 1);
    this.sink = new TextSink(path);
  }

  append(values: ArrayLike<number>): void {
    checkCapacity(
      this.sink.path,
      this.shape,
      this.total,
      this.written + values.length,
    );
    const float32 = this.options.float32 ?? false;
    for (let i = 0; i < values.length; i++) {
      const separator = this.column === 0 ? "" : ",";
      this.sink.write(separator + formatCsvValue(values[i], float32));
      this.column++;
      if (this.column === this.lineLength) {
        this.sink.write("\n");
        this.column = 0;
      }
    }
    this.written += values.length;
  }

  close(): void {
    this.sink.close();
    checkComplete(this.sink.path, this.shape, this.total, this.written);
  }

  abort(): void {
    this.sink.abort();
  }
}

/** Writes JSON nested arrays, one line per index of the first axis. */
export class JsonArrayWriter implements ArrayWriter {
  private sink: TextSink;
  private readonly total: number;
  /** C-order strides of the shape, to find which brackets open or close at an index. */
  private readonly strides: number[];
  private written = 0;

  constructor(
    path: string,
    readonly shape: readonly number[],
    private readonly options: TextWriterOptions = {},
  ) {
    this.total = shape.reduce((a, b) => a * b, 1);
    this.strides = shape.map((_, axis) =>
      shape.slice(axis + 1).reduce((a, b) => a * b, 1),
    );
    this.sink = new TextSink(path);
    if (this.total === 0) {
      this.sink.write(emptyJson(shape) + "\n");
    }
  }

  append(values: ArrayLike<number>): void {
    checkCapacity(
      this.sink.path,
      this.shape,
      this.total,
      this.written + values.length,
    );
    const float32 = this.options.float32 ?? false;
    const rank = this.shape.length;
    for (let i = 0; i < values.length; i++) {
      const index = this.written + i;
      // Count how many axes start a new array at this index, innermost first.
      let opened = 0;
      while (
        opened < rank &&
        index %
          (this.strides[rank - 1 - opened] * this.shape[rank - 1 - opened]) ===
          0
      ) {
        opened++;
      }
      let text = "";
      if (index > 0) {
        text += opened >= rank - 1 && rank > 1 ? ",\n" : ",";
      }
      text += "[".repeat(opened) + formatJsonValue(values[i], float32);
      // Count how many axes end their array after this index.
      let closed = 0;
      while (
        closed < rank &&
        (index + 1) %
          (this.strides[rank - 1 - closed] * this.shape[rank - 1 - closed]) ===
          0
      ) {
        closed++;
      }
      text += "]".repeat(closed);
      if (index + 1 === this.total) {
        text += "\n";
      }
      this.sink.write(text);
    }
    this.written += values.length;
  }

  close(): void {
    this.sink.close();
    checkComplete(this.sink.path, this.shape, this.total, this.written);
  }

  abort(): void {
    this.sink.abort();
  }
}

/** JSON of an array with no elements, such as `[]` or `[[], []]`. */
function emptyJson(shape: readonly number[]): string {
  if (shape.length === 0 || shape[0] === 0) {
    return "[]";
  }
  const inner = emptyJson(shape.slice(1));
  return `[${new Array(shape[0]).fill(inner).join(",")}]`;
}

function checkCapacity(
  path: string,
  shape: readonly number[],
  total: number,
  count: number,
): void {
  if (count > total) {
    throw new RangeError(
      `${path}: shape [${shape.join(", ")}] has ${total} values, but ${count} were appended.`,
    );
  }
}

function checkComplete(
  path: string,
  shape: readonly number[],
  total: number,
  count: number,
): void {
  if (count !== total) {
    throw new Error(
      `${path}: shape [${shape.join(", ")}] has ${total} values, but only ${count} were written; the file is incomplete.`,
    );
  }
}
