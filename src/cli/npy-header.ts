// Parsing and formatting of the NumPy .npy header.
//
// Layout, as NumPy's format.py documents it: the magic string "\x93NUMPY",
// a major and a minor version byte, and the header length as a
// little-endian uint16 (version 1.0) or uint32 (2.0 and 3.0). The header
// follows: a Python dict literal with the keys 'descr', 'fortran_order' and
// 'shape', padded with spaces and a final newline. Versions 1.0 and 2.0
// encode it as latin1, 3.0 as UTF-8. The data follows directly.

/** Element kinds this reader supports: float, signed and unsigned integer, bool. */
export type NpyKind = "f" | "i" | "u" | "b";

/** A supported element type, decoded from a descr string such as `'<f4'`. */
export interface NpyDtype {
  kind: NpyKind;
  itemSize: 1 | 2 | 4 | 8;
  littleEndian: boolean;
  /** NumPy's type code without byte order: `'f2'`, `'i8'`, `'b1'` and so on. */
  name: string;
}

/** The parsed header of a .npy file. */
export interface NpyHeader {
  /** Format version as `'major.minor'`. */
  version: string;
  /** The descr string as stored, such as `'<f4'`. */
  descr: string;
  dtype: NpyDtype;
  /** Whether the data is stored in Fortran (column-major) order. */
  fortranOrder: boolean;
  shape: number[];
  /** Byte offset of the first element. */
  dataOffset: number;
}

export const NPY_MAGIC = new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);

/** Bytes before the header text of version 1.0; 2.0 and 3.0 need 2 more. */
export const NPY_PREFIX_LENGTH_V1 = 10;

export const SUPPORTED_DTYPE_NAMES = [
  "f2",
  "f4",
  "f8",
  "i1",
  "i2",
  "i4",
  "i8",
  "u1",
  "u2",
  "u4",
  "u8",
  "b1",
] as const;

const UNSUPPORTED_KIND_NAMES: Record<string, string> = {
  c: "complex",
  O: "object",
  U: "unicode string",
  S: "byte string",
  a: "byte string",
  M: "datetime",
  m: "timedelta",
  V: "void",
};

/**
 * Returns the total header length (prefix and text) from the first bytes of
 * a file, which must hold at least 12 bytes or the whole file.
 *
 * @throws Error naming `source` when the magic string or version is invalid.
 */
export function npyHeaderLength(bytes: Uint8Array, source: string): number {
  if (bytes.length < NPY_PREFIX_LENGTH_V1) {
    throw new Error(
      `${source}: not a .npy file (only ${bytes.length} bytes, shorter than the 10-byte prefix).`,
    );
  }
  for (let i = 0; i < NPY_MAGIC.length; i++) {
    if (bytes[i] !== NPY_MAGIC[i]) {
      throw new Error(
        `${source}: not a .npy file (the magic string \\x93NUMPY is missing).`,
      );
    }
  }
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (major === 1) {
    return NPY_PREFIX_LENGTH_V1 + view.getUint16(8, true);
  }
  if (major === 2 || major === 3) {
    if (bytes.length < NPY_PREFIX_LENGTH_V1 + 2) {
      throw new Error(`${source}: the .npy header is truncated.`);
    }
    return NPY_PREFIX_LENGTH_V1 + 2 + view.getUint32(8, true);
  }
  throw new Error(
    `${source}: unsupported .npy format version ${major}.${bytes[7]}; versions 1.0, 2.0 and 3.0 are supported.`,
  );
}

/**
 * Parses the header at the start of `bytes`, which must contain the whole
 * header (see {@link npyHeaderLength}).
 *
 * @throws Error naming `source` for a malformed header or an unsupported dtype.
 */
export function parseNpyHeader(bytes: Uint8Array, source: string): NpyHeader {
  const dataOffset = npyHeaderLength(bytes, source);
  if (bytes.length < dataOffset) {
    throw new Error(
      `${source}: the .npy header is truncated (expected ${dataOffset} bytes, found ${bytes.length}).`,
    );
  }
  const major = bytes[6];
  const textStart =
    major === 1 ? NPY_PREFIX_LENGTH_V1 : NPY_PREFIX_LENGTH_V1 + 2;
  const encoding = major === 3 ? "utf-8" : "latin1";
  const text = new TextDecoder(encoding).decode(
    bytes.subarray(textStart, dataOffset),
  );

  let dict: unknown;
  try {
    dict = new PythonLiteralParser(text).parseWhole();
  } catch (error) {
    throw new Error(
      `${source}: invalid .npy header ${JSON.stringify(text.trim())}: ${(error as Error).message}`,
    );
  }
  if (!(dict instanceof Map)) {
    throw new Error(
      `${source}: invalid .npy header ${JSON.stringify(text.trim())}: expected a dict.`,
    );
  }
  for (const key of ["descr", "fortran_order", "shape"]) {
    if (!dict.has(key)) {
      throw new Error(`${source}: the .npy header has no '${key}' key.`);
    }
  }

  const descrValue = dict.get("descr");
  if (typeof descrValue !== "string") {
    throw new Error(
      `${source}: unsupported dtype ${formatPythonValue(descrValue)} (structured); ` +
        `supported dtypes are ${SUPPORTED_DTYPE_NAMES.join(", ")}.`,
    );
  }
  const fortranOrder = dict.get("fortran_order");
  if (typeof fortranOrder !== "boolean") {
    throw new Error(
      `${source}: the .npy header's 'fortran_order' must be True or False, not ${formatPythonValue(fortranOrder)}.`,
    );
  }
  const shape = dict.get("shape");
  if (
    !Array.isArray(shape) ||
    !shape.every(
      (n) => typeof n === "number" && Number.isSafeInteger(n) && n >= 0,
    )
  ) {
    throw new Error(
      `${source}: the .npy header's 'shape' must be a tuple of non-negative integers, not ${formatPythonValue(shape)}.`,
    );
  }

  return {
    version: `${major}.${bytes[7]}`,
    descr: descrValue,
    dtype: parseDescr(descrValue, source),
    fortranOrder,
    shape: shape as number[],
    dataOffset,
  };
}

/**
 * Decodes a descr string such as `'<f4'`, `'>i8'` or `'|b1'`.
 *
 * @throws Error naming `source` and the dtype when it is not supported.
 */
export function parseDescr(descr: string, source: string): NpyDtype {
  const match = /^([<>|=]?)([a-zA-Z])(\d*)$/.exec(descr);
  const name = match ? `${match[2]}${match[3]}` : "";
  if (!match || !(SUPPORTED_DTYPE_NAMES as readonly string[]).includes(name)) {
    const kind = match?.[2] ?? descr.replace(/^[<>|=]/, "")[0];
    const what = UNSUPPORTED_KIND_NAMES[kind];
    throw new Error(
      `${source}: unsupported dtype '${descr}'${what ? ` (${what})` : ""}; ` +
        `supported dtypes are ${SUPPORTED_DTYPE_NAMES.join(", ")}. ` +
        `Convert the array with NumPy first, for example arr.astype('<f4').`,
    );
  }
  // '=' is native order; NumPy itself always writes '<', '>' or '|'.
  const order = match[1];
  let littleEndian = order !== ">";
  if (order === "=") {
    littleEndian = hostIsLittleEndian();
  }
  return {
    kind: match[2] as NpyKind,
    itemSize: Number(match[3]) as NpyDtype["itemSize"],
    littleEndian,
    name,
  };
}

/** Returns NumPy's descr for a dtype name and byte order, such as `'<f4'` or `'|u1'`. */
export function formatDescr(name: string, littleEndian = true): string {
  if (name.endsWith("1")) {
    return `|${name}`;
  }
  return `${littleEndian ? "<" : ">"}${name}`;
}

/** Formats a shape as a Python tuple: `()`, `(5,)`, `(3, 4)`. */
export function formatShapeTuple(shape: readonly number[]): string {
  if (shape.length === 1) {
    return `(${shape[0]},)`;
  }
  return `(${shape.join(", ")})`;
}

/**
 * Builds the prefix and header of a .npy file, padded like NumPy's so that
 * the data starts at a multiple of 64 bytes. Uses version 1.0 unless the
 * header needs more than 65535 bytes, then 2.0.
 */
export function formatNpyHeader(
  descr: string,
  fortranOrder: boolean,
  shape: readonly number[],
): Uint8Array {
  const dict =
    `{'descr': '${descr}', 'fortran_order': ${fortranOrder ? "True" : "False"}, ` +
    `'shape': ${formatShapeTuple(shape)}, }`;
  let prefixLength = NPY_PREFIX_LENGTH_V1;
  let major = 1;
  if (paddedLength(prefixLength, dict.length) - prefixLength > 0xffff) {
    prefixLength += 2;
    major = 2;
  }
  const total = paddedLength(prefixLength, dict.length);
  const bytes = new Uint8Array(total);
  bytes.set(NPY_MAGIC, 0);
  bytes[6] = major;
  bytes[7] = 0;
  const view = new DataView(bytes.buffer);
  const textLength = total - prefixLength;
  if (major === 1) {
    view.setUint16(8, textLength, true);
  } else {
    view.setUint32(8, textLength, true);
  }
  const text = dict.padEnd(textLength - 1, " ") + "\n";
  for (let i = 0; i < text.length; i++) {
    bytes[prefixLength + i] = text.charCodeAt(i);
  }
  return bytes;
}

function paddedLength(prefixLength: number, dictLength: number): number {
  // One byte for the closing newline, then spaces up to a multiple of 64.
  return Math.ceil((prefixLength + dictLength + 1) / 64) * 64;
}

export function hostIsLittleEndian(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}

function formatPythonValue(value: unknown): string {
  if (value instanceof Map) {
    return "a dict";
  }
  if (Array.isArray(value)) {
    return `[${value.map(formatPythonValue).join(", ")}]`;
  }
  return typeof value === "string" ? `'${value}'` : String(value);
}

/**
 * A parser for the Python literals a .npy header can contain: dicts, tuples
 * and lists (both returned as arrays), strings, integers (also with Python 2's
 * `L` suffix), True, False and None. Dicts become Maps.
 */
class PythonLiteralParser {
  private position = 0;

  constructor(private readonly text: string) {}

  parseWhole(): unknown {
    const value = this.parseValue();
    this.skipSpace();
    if (this.position !== this.text.length) {
      throw new Error(`unexpected text at offset ${this.position}`);
    }
    return value;
  }

  private parseValue(): unknown {
    this.skipSpace();
    const char = this.text[this.position];
    if (char === "{") {
      return this.parseDict();
    }
    if (char === "(" || char === "[") {
      return this.parseSequence(char === "(" ? ")" : "]");
    }
    if (char === "'" || char === '"') {
      return this.parseString(char);
    }
    const word = /^(True|False|None|-?\d+L?)/.exec(
      this.text.slice(this.position),
    );
    if (!word) {
      throw new Error(
        `unexpected character ${JSON.stringify(char ?? "end of header")} at offset ${this.position}`,
      );
    }
    this.position += word[0].length;
    if (word[0] === "True") return true;
    if (word[0] === "False") return false;
    if (word[0] === "None") return null;
    return Number(word[0].replace("L", ""));
  }

  private parseDict(): Map<unknown, unknown> {
    const dict = new Map<unknown, unknown>();
    this.position++;
    for (;;) {
      this.skipSpace();
      if (this.text[this.position] === "}") {
        this.position++;
        return dict;
      }
      const key = this.parseValue();
      this.skipSpace();
      this.expect(":");
      dict.set(key, this.parseValue());
      this.skipSpace();
      if (this.text[this.position] === ",") {
        this.position++;
      } else if (this.text[this.position] !== "}") {
        throw new Error(`expected ',' or '}' at offset ${this.position}`);
      }
    }
  }

  private parseSequence(close: string): unknown[] {
    const items: unknown[] = [];
    this.position++;
    for (;;) {
      this.skipSpace();
      if (this.text[this.position] === close) {
        this.position++;
        return items;
      }
      items.push(this.parseValue());
      this.skipSpace();
      if (this.text[this.position] === ",") {
        this.position++;
      } else if (this.text[this.position] !== close) {
        throw new Error(
          `expected ',' or '${close}' at offset ${this.position}`,
        );
      }
    }
  }

  private parseString(quote: string): string {
    let value = "";
    this.position++;
    while (this.position < this.text.length) {
      const char = this.text[this.position++];
      if (char === quote) {
        return value;
      }
      if (char === "\\") {
        // Field names of structured dtypes can hold escapes; keep the character.
        value += this.text[this.position++] ?? "";
      } else {
        value += char;
      }
    }
    throw new Error("unterminated string");
  }

  private expect(char: string): void {
    if (this.text[this.position] !== char) {
      throw new Error(`expected '${char}' at offset ${this.position}`);
    }
    this.position++;
  }

  private skipSpace(): void {
    while (/\s/.test(this.text[this.position] ?? "")) {
      this.position++;
    }
  }
}
