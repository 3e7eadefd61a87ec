// Reading and writing NumPy .npy files: whole arrays, and row ranges of
// arrays too large for memory.

import { closeSync, fstatSync, openSync, readSync, writeSync } from "node:fs";

import { float16BitsToNumber, numberToFloat16Bits } from "./float16.js";
import {
  formatDescr,
  formatNpyHeader,
  formatShapeTuple,
  hostIsLittleEndian,
  npyHeaderLength,
  parseDescr,
  parseNpyHeader,
  type NpyDtype,
  type NpyHeader,
} from "./npy-header.js";

export {
  parseNpyHeader,
  formatNpyHeader,
  type NpyDtype,
  type NpyHeader,
} from "./npy-header.js";

/** Typed arrays the reader fills and the writer takes. */
export type NpyTypedArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

/** An array read from a .npy file, in C (row-major) order. */
export interface NpyArray {
  shape: number[];
  /**
   * NumPy's type code without byte order, such as `'f4'`. The data array is
   * the matching typed array, except that `'f2'` widens to a `Float32Array`
   * and `'b1'` is a `Uint8Array` of 0 and 1.
   */
  dtype: string;
  data: NpyTypedArray;
}

const HOST_LITTLE_ENDIAN = hostIsLittleEndian();

/** Typed array constructor that stores each dtype without loss. */
function naturalArrayType(dtype: NpyDtype) {
  switch (dtype.name) {
    case "f2":
    case "f4":
      return Float32Array;
    case "f8":
      return Float64Array;
    case "i1":
      return Int8Array;
    case "u1":
    case "b1":
      return Uint8Array;
    case "i2":
      return Int16Array;
    case "u2":
      return Uint16Array;
    case "i4":
      return Int32Array;
    case "u4":
      return Uint32Array;
    case "i8":
      return BigInt64Array;
    case "u8":
      return BigUint64Array;
  }
  throw new Error(`unsupported dtype '${dtype.name}'`);
}

/** Returns the dtype name that stores a typed array's elements without loss. */
export function dtypeNameOf(data: NpyTypedArray | readonly number[]): string {
  if (data instanceof Float32Array) return "f4";
  if (data instanceof Int8Array) return "i1";
  if (data instanceof Uint8Array) return "u1";
  if (data instanceof Int16Array) return "i2";
  if (data instanceof Uint16Array) return "u2";
  if (data instanceof Int32Array) return "i4";
  if (data instanceof Uint32Array) return "u4";
  if (data instanceof BigInt64Array) return "i8";
  if (data instanceof BigUint64Array) return "u8";
  return "f8";
}

/**
 * Checks whether elements of `dtype` can be copied byte for byte to or from `out`:
 * the same element type as {@link naturalArrayType}, in the host's byte order.
 */
function isRawCopy(dtype: NpyDtype, out: NpyTypedArray): boolean {
  // float16 needs widening, and bool bytes other than 0 and 1 are normalized.
  if (dtype.name === "f2" || dtype.name === "b1") {
    return false;
  }
  if (dtype.itemSize > 1 && dtype.littleEndian !== HOST_LITTLE_ENDIAN) {
    return false;
  }
  return out instanceof naturalArrayType(dtype);
}

/**
 * Decodes `count` elements starting at `byteOffset` of `view` into `out`,
 * at `outOffset`, `outOffset + outStride` and so on. 64-bit integers go into
 * a bigint array as they are, and into a number array as the nearest double
 * (exact up to 2^53).
 */
function decodeElements(
  view: DataView,
  byteOffset: number,
  dtype: NpyDtype,
  count: number,
  out: NpyTypedArray,
  outOffset: number,
  outStride: number,
): void {
  const le = dtype.littleEndian;
  const size = dtype.itemSize;
  const numbers = out as { [index: number]: number };
  const bigints = out as { [index: number]: bigint };
  const toBigint =
    out instanceof BigInt64Array || out instanceof BigUint64Array;
  let o = outOffset;
  let p = byteOffset;
  const end = byteOffset + count * size;

  switch (dtype.name) {
    case "f2":
      for (; p < end; p += size, o += outStride) {
        numbers[o] = float16BitsToNumber(view.getUint16(p, le));
      }
      return;
    case "f4":
      for (; p < end; p += size, o += outStride)
        numbers[o] = view.getFloat32(p, le);
      return;
    case "f8":
      for (; p < end; p += size, o += outStride)
        numbers[o] = view.getFloat64(p, le);
      return;
    case "i1":
      for (; p < end; p += size, o += outStride) numbers[o] = view.getInt8(p);
      return;
    case "u1":
      for (; p < end; p += size, o += outStride) numbers[o] = view.getUint8(p);
      return;
    case "b1":
      for (; p < end; p += size, o += outStride)
        numbers[o] = view.getUint8(p) === 0 ? 0 : 1;
      return;
    case "i2":
      for (; p < end; p += size, o += outStride)
        numbers[o] = view.getInt16(p, le);
      return;
    case "u2":
      for (; p < end; p += size, o += outStride)
        numbers[o] = view.getUint16(p, le);
      return;
    case "i4":
      for (; p < end; p += size, o += outStride)
        numbers[o] = view.getInt32(p, le);
      return;
    case "u4":
      for (; p < end; p += size, o += outStride)
        numbers[o] = view.getUint32(p, le);
      return;
    case "i8":
      for (; p < end; p += size, o += outStride) {
        const value = view.getBigInt64(p, le);
        if (toBigint) bigints[o] = value;
        else numbers[o] = Number(value);
      }
      return;
    case "u8":
      for (; p < end; p += size, o += outStride) {
        const value = view.getBigUint64(p, le);
        if (toBigint) bigints[o] = value;
        else numbers[o] = Number(value);
      }
      return;
  }
}

/**
 * A .npy file opened for reading rows (ranges of the first axis) on demand,
 * so that files larger than memory can be processed in chunks.
 *
 * C-order data is read with one `readSync` per call. Fortran-order data is
 * read with one `readSync` per element of a row, because each row is spread
 * over the file with a stride of `shape[0]` elements. That is correct for
 * any size but slow for long rows read a few at a time, so read Fortran
 * files in large row ranges.
 */
export class NpyFileReader {
  readonly header: NpyHeader;
  /** Length of the first axis; 1 for a 0-d array. */
  readonly rowCount: number;
  /** Elements in one row: the product of `shape[1:]`. */
  readonly rowLength: number;
  private fd: number;
  private scratch = new Uint8Array(0);

  private constructor(
    readonly path: string,
    fd: number,
  ) {
    this.fd = fd;
    const prefix = new Uint8Array(12);
    const prefixRead = readSync(fd, prefix, 0, 12, 0);
    const headerLength = npyHeaderLength(prefix.subarray(0, prefixRead), path);
    const headerBytes = new Uint8Array(headerLength);
    this.readExactly(headerBytes, 0);
    this.header = parseNpyHeader(headerBytes, path);

    const shape = this.header.shape;
    this.rowCount = shape.length === 0 ? 1 : shape[0];
    this.rowLength = shape.slice(1).reduce((a, b) => a * b, 1);
    const dataBytes =
      this.rowCount * this.rowLength * this.header.dtype.itemSize;
    const fileSize = fstatSync(fd).size;
    if (fileSize < this.header.dataOffset + dataBytes) {
      throw new Error(
        `${path}: the file is truncated: shape ${formatShapeTuple(shape)} of ` +
          `${this.header.descr} needs ${dataBytes} bytes of data after the ` +
          `${this.header.dataOffset}-byte header, but the file has ${fileSize} bytes in all.`,
      );
    }
  }

  /** Opens a file and parses its header. Call {@link close} when done. */
  static open(path: string): NpyFileReader {
    const fd = openSync(path, "r");
    try {
      return new NpyFileReader(path, fd);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  get shape(): number[] {
    return this.header.shape;
  }

  get dtype(): NpyDtype {
    return this.header.dtype;
  }

  /** Allocates a typed array for `count` rows without loss (see {@link NpyArray}). */
  allocateRows(count: number): NpyTypedArray {
    const ArrayType = naturalArrayType(this.header.dtype);
    return new ArrayType(count * this.rowLength);
  }

  /**
   * Reads rows `[start, start + count)` in C order into `out`, starting at
   * `out[0]`, converting each element to `out`'s type (see
   * {@link decodeElements}) and returns `out`.
   *
   * @throws RangeError when the range is outside the array or `out` is too short.
   */
  readRows<T extends NpyTypedArray>(start: number, count: number, out: T): T {
    if (
      !Number.isSafeInteger(start) ||
      !Number.isSafeInteger(count) ||
      start < 0 ||
      count < 0 ||
      start + count > this.rowCount
    ) {
      throw new RangeError(
        `${this.path}: rows [${start}, ${start + count}) are outside [0, ${this.rowCount}).`,
      );
    }
    const elements = count * this.rowLength;
    if (out.length < elements) {
      throw new RangeError(
        `${this.path}: the output array has ${out.length} elements, but ${count} rows need ${elements}.`,
      );
    }
    if (elements === 0) {
      return out;
    }
    if (this.header.fortranOrder && this.rowLength > 1) {
      this.readFortranRows(start, count, out);
      return out;
    }

    const { dtype, dataOffset } = this.header;
    const position = dataOffset + start * this.rowLength * dtype.itemSize;
    const byteLength = elements * dtype.itemSize;
    if (isRawCopy(dtype, out)) {
      this.readExactly(
        new Uint8Array(out.buffer, out.byteOffset, byteLength),
        position,
      );
      return out;
    }
    const bytes = this.scratchBytes(byteLength);
    this.readExactly(bytes, position);
    const view = new DataView(bytes.buffer, bytes.byteOffset, byteLength);
    decodeElements(view, 0, dtype, elements, out, 0, 1);
    return out;
  }

  /** Reads the whole array, in C order. */
  readAll(): NpyArray {
    const data = this.allocateRows(this.rowCount);
    this.readRows(0, this.rowCount, data);
    return { shape: [...this.shape], dtype: this.header.dtype.name, data };
  }

  close(): void {
    if (this.fd >= 0) {
      closeSync(this.fd);
      this.fd = -1;
    }
  }

  /**
   * In Fortran order the element at (i0, i1, ..., ik) is at linear index
   * i0 + d0 * (i1 + d1 * (i2 + ...)). For a fixed tail (i1, ..., ik) the
   * rows `[start, start + count)` are therefore one contiguous run, which
   * goes to `out` with a stride of `rowLength`. The loop walks the tails in
   * Fortran order (file order) and tracks each tail's C-order offset.
   */
  private readFortranRows(
    start: number,
    count: number,
    out: NpyTypedArray,
  ): void {
    const { dtype, dataOffset } = this.header;
    const shape = this.shape;
    const tailShape = shape.slice(1);
    const cStrides = new Array<number>(tailShape.length);
    let stride = 1;
    for (let axis = tailShape.length - 1; axis >= 0; axis--) {
      cStrides[axis] = stride;
      stride *= tailShape[axis];
    }
    const tailIndex = new Array<number>(tailShape.length).fill(0);
    const runBytes = count * dtype.itemSize;
    const bytes = this.scratchBytes(runBytes);
    const view = new DataView(bytes.buffer, bytes.byteOffset, runBytes);
    let cOffset = 0;

    for (let fortranTail = 0; fortranTail < this.rowLength; fortranTail++) {
      const position =
        dataOffset + (fortranTail * this.rowCount + start) * dtype.itemSize;
      this.readExactly(bytes.subarray(0, runBytes), position);
      decodeElements(view, 0, dtype, count, out, cOffset, this.rowLength);

      // Advance the tail index with the first tail axis fastest.
      for (let axis = 0; axis < tailShape.length; axis++) {
        tailIndex[axis]++;
        cOffset += cStrides[axis];
        if (tailIndex[axis] < tailShape[axis]) {
          break;
        }
        cOffset -= tailIndex[axis] * cStrides[axis];
        tailIndex[axis] = 0;
      }
    }
  }

  private scratchBytes(byteLength: number): Uint8Array {
    if (this.scratch.length < byteLength) {
      this.scratch = new Uint8Array(byteLength);
    }
    return this.scratch.subarray(0, byteLength);
  }

  private readExactly(target: Uint8Array, position: number): void {
    let done = 0;
    while (done < target.length) {
      const read = readSync(
        this.fd,
        target,
        done,
        target.length - done,
        position + done,
      );
      if (read === 0) {
        throw new Error(
          `${this.path}: unexpected end of file at byte ${position + done}.`,
        );
      }
      done += read;
    }
  }
}

/** Reads a whole .npy file into memory, in C order. */
export function readNpy(path: string): NpyArray {
  const reader = NpyFileReader.open(path);
  try {
    return reader.readAll();
  } finally {
    reader.close();
  }
}

/** Options of {@link writeNpy} and {@link NpyFileWriter}. */
export interface NpyWriteOptions {
  /**
   * Element type to store, such as `'f4'` or `'<f2'`, with an optional byte
   * order prefix. @default the type of the data: `'f4'` for a
   * `Float32Array`, `'f8'` for a `Float64Array` or a number array, and so on.
   */
  dtype?: string;
}

/**
 * A .npy file written in parts: the header first, for a shape known in
 * advance, then elements in C order with {@link append}.
 */
export class NpyFileWriter {
  readonly dtype: NpyDtype;
  readonly descr: string;
  private fd: number;
  private position: number;
  private written = 0;
  private readonly expected: number;
  private scratch = new Uint8Array(0);

  private constructor(
    readonly path: string,
    readonly shape: readonly number[],
    dtypeName: string,
  ) {
    this.dtype = parseDescr(
      /^[<>|=]/.test(dtypeName) ? dtypeName : formatDescr(dtypeName),
      path,
    );
    this.descr = formatDescr(this.dtype.name, this.dtype.littleEndian);
    this.expected = shape.reduce((a, b) => a * b, 1);
    const header = formatNpyHeader(this.descr, false, shape);
    this.fd = openSync(path, "w");
    this.position = 0;
    this.writeBytes(header);
  }

  /** Creates (or truncates) `path` and writes the header. */
  static create(
    path: string,
    shape: readonly number[],
    dtype = "f4",
  ): NpyFileWriter {
    return new NpyFileWriter(path, shape, dtype);
  }

  /** Number of elements appended so far. */
  get elementsWritten(): number {
    return this.written;
  }

  /**
   * Appends elements in C order, converting them to the file's dtype.
   *
   * @throws RangeError when more elements arrive than the shape holds, or
   *   a value does not fit an integer or bool dtype.
   */
  append(values: NpyTypedArray | ArrayLike<number>): void {
    if (this.written + values.length > this.expected) {
      throw new RangeError(
        `${this.path}: shape ${formatShapeTuple(this.shape)} has ${this.expected} elements, ` +
          `but ${this.written + values.length} were appended.`,
      );
    }
    const dtype = this.dtype;
    if (
      ArrayBuffer.isView(values) &&
      isRawCopy(dtype, values as NpyTypedArray)
    ) {
      const typed = values as NpyTypedArray;
      this.writeBytes(
        new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength),
      );
    } else {
      // Encode in slices of at most 1 MiB so a large append stays bounded.
      const perSlice = Math.max(1, Math.floor((1 << 20) / dtype.itemSize));
      for (let begin = 0; begin < values.length; begin += perSlice) {
        const end = Math.min(values.length, begin + perSlice);
        const byteLength = (end - begin) * dtype.itemSize;
        if (this.scratch.length < byteLength) {
          this.scratch = new Uint8Array(byteLength);
        }
        const view = new DataView(this.scratch.buffer, 0, byteLength);
        encodeElements(values, begin, end, dtype, view, this.path);
        this.writeBytes(this.scratch.subarray(0, byteLength));
      }
    }
    this.written += values.length;
  }

  /**
   * Closes the file.
   *
   * @throws Error when fewer elements were appended than the shape holds.
   */
  close(): void {
    if (this.fd < 0) {
      return;
    }
    closeSync(this.fd);
    this.fd = -1;
    if (this.written !== this.expected) {
      throw new Error(
        `${this.path}: shape ${formatShapeTuple(this.shape)} has ${this.expected} elements, ` +
          `but only ${this.written} were written; the file is incomplete.`,
      );
    }
  }

  /** Closes the file without checking that it is complete, after an error. */
  abort(): void {
    if (this.fd >= 0) {
      closeSync(this.fd);
      this.fd = -1;
    }
  }

  private writeBytes(bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.length) {
      done += writeSync(
        this.fd,
        bytes,
        done,
        bytes.length - done,
        this.position + done,
      );
    }
    this.position += bytes.length;
  }
}

/** Writes an array to `path` in C order. `data.length` must equal the product of `shape`. */
export function writeNpy(
  path: string,
  data: NpyTypedArray | readonly number[],
  shape: readonly number[],
  options: NpyWriteOptions = {},
): void {
  const size = shape.reduce((a, b) => a * b, 1);
  if (data.length !== size) {
    throw new RangeError(
      `${path}: data has ${data.length} elements, but shape ${formatShapeTuple(shape)} has ${size}.`,
    );
  }
  const writer = NpyFileWriter.create(
    path,
    shape,
    options.dtype ?? dtypeNameOf(data),
  );
  try {
    writer.append(data);
    writer.close();
  } finally {
    writer.abort();
  }
}

const INTEGER_RANGES: Record<string, [bigint, bigint]> = {
  i1: [-(2n ** 7n), 2n ** 7n - 1n],
  u1: [0n, 2n ** 8n - 1n],
  i2: [-(2n ** 15n), 2n ** 15n - 1n],
  u2: [0n, 2n ** 16n - 1n],
  i4: [-(2n ** 31n), 2n ** 31n - 1n],
  u4: [0n, 2n ** 32n - 1n],
  i8: [-(2n ** 63n), 2n ** 63n - 1n],
  u8: [0n, 2n ** 64n - 1n],
};

function encodeElements(
  values: NpyTypedArray | ArrayLike<number>,
  begin: number,
  end: number,
  dtype: NpyDtype,
  view: DataView,
  path: string,
): void {
  const le = dtype.littleEndian;
  const size = dtype.itemSize;
  const source = values as ArrayLike<number | bigint>;
  for (let i = begin, p = 0; i < end; i++, p += size) {
    const value = source[i];
    if (dtype.kind === "f") {
      const number = Number(value);
      if (size === 2) view.setUint16(p, numberToFloat16Bits(number), le);
      else if (size === 4) view.setFloat32(p, number, le);
      else view.setFloat64(p, number, le);
      continue;
    }
    if (dtype.kind === "b") {
      view.setUint8(p, value ? 1 : 0);
      continue;
    }
    if (typeof value === "number" && !Number.isInteger(value)) {
      throw new RangeError(
        `${path}: element ${i} is ${value}, which is not an integer; dtype ${dtype.name} stores integers only.`,
      );
    }
    const integer = BigInt(value);
    const [min, max] = INTEGER_RANGES[dtype.name];
    if (integer < min || integer > max) {
      throw new RangeError(
        `${path}: element ${i} is ${value}, outside the range [${min}, ${max}] of dtype ${dtype.name}.`,
      );
    }
    switch (dtype.name) {
      case "i1":
        view.setInt8(p, Number(integer));
        break;
      case "u1":
        view.setUint8(p, Number(integer));
        break;
      case "i2":
        view.setInt16(p, Number(integer), le);
        break;
      case "u2":
        view.setUint16(p, Number(integer), le);
        break;
      case "i4":
        view.setInt32(p, Number(integer), le);
        break;
      case "u4":
        view.setUint32(p, Number(integer), le);
        break;
      case "i8":
        view.setBigInt64(p, integer, le);
        break;
      case "u8":
        view.setBigUint64(p, integer, le);
        break;
    }
  }
}
