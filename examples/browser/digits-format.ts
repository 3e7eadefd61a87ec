// The binary file that carries the `mnist` package's digits to the page.
//
// The package ships its 10,000 digits as ten JSON files (21 MB) and reads
// them with require(). Its pixel values have three decimals and only 256
// distinct values occur, so the build stores each pixel as a one-byte index
// into a table of those values (7.8 MB). Decoding gives back the same
// doubles, so the page trains on the same float32 pixels as Node does.
//
// Layout, little-endian:
//   bytes 0-3      "MNP1"
//   bytes 4-43     uint32 count of samples of each digit 0 to 9
//   bytes 44-47    zero
//   bytes 48-2095  float64 pixel value of each index 0 to 255
//   bytes 2096-    uint8 index of each pixel: digit 0's samples, then
//                  digit 1's, and so on, 784 pixels per sample

const MAGIC = "MNP1";
const DIGITS = 10;
const PIXELS_PER_SAMPLE = 784;
const PALETTE_SIZE = 256;
const PALETTE_OFFSET = 48;
const PIXELS_OFFSET = PALETTE_OFFSET + 8 * PALETTE_SIZE;

/** All samples of one digit class, in the shape the `mnist` package uses. */
export interface DigitSamples {
  /** The class, 0 to 9. */
  id: number;
  /** Number of samples of this class. */
  length: number;
  /** Pixels of every sample, 784 per sample (28x28, row-major), each in [0, 1]. */
  raw: ArrayLike<number>;
}

/**
 * Packs the ten per-digit pixel arrays of the `mnist` package into the
 * binary layout above.
 *
 * @throws RangeError when a pixel count is not a multiple of 784, or when
 *   more than 256 distinct pixel values occur.
 */
export function encodeDigits(
  rawByDigit: readonly ArrayLike<number>[],
): Uint8Array {
  if (rawByDigit.length !== DIGITS) {
    throw new RangeError(
      `rawByDigit has ${rawByDigit.length} entries, but it needs one per digit (${DIGITS}).`,
    );
  }
  const palette = new Map<number, number>();
  let pixelCount = 0;
  for (const [digit, raw] of rawByDigit.entries()) {
    if (raw.length % PIXELS_PER_SAMPLE !== 0) {
      throw new RangeError(
        `Digit ${digit} has ${raw.length} pixels, which is not a multiple of ${PIXELS_PER_SAMPLE}.`,
      );
    }
    pixelCount += raw.length;
    for (let i = 0; i < raw.length; i++) {
      if (palette.has(raw[i])) continue;
      if (palette.size === PALETTE_SIZE) {
        throw new RangeError(
          `Digit ${digit} has more than ${PALETTE_SIZE} distinct pixel values, ` +
            "so one byte per pixel cannot hold them.",
        );
      }
      palette.set(raw[i], palette.size);
    }
  }

  const bytes = new Uint8Array(PIXELS_OFFSET + pixelCount);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < MAGIC.length; i++) bytes[i] = MAGIC.charCodeAt(i);
  for (const [digit, raw] of rawByDigit.entries()) {
    view.setUint32(4 + 4 * digit, raw.length / PIXELS_PER_SAMPLE, true);
  }
  for (const [value, index] of palette) {
    view.setFloat64(PALETTE_OFFSET + 8 * index, value, true);
  }
  let offset = PIXELS_OFFSET;
  for (const raw of rawByDigit) {
    for (let i = 0; i < raw.length; i++) bytes[offset++] = palette.get(raw[i])!;
  }
  return bytes;
}

/**
 * Unpacks a file written by {@link encodeDigits} into one entry per digit.
 * The pixels come back as float32, the precision the trainer stores them in.
 *
 * @throws RangeError when the bytes do not start with the expected header
 *   or are shorter than the header's sample counts need.
 */
export function decodeDigits(buffer: ArrayBuffer): DigitSamples[] {
  const bytes = new Uint8Array(buffer);
  const view = new DataView(buffer);
  const magic = String.fromCharCode(...bytes.subarray(0, MAGIC.length));
  if (bytes.length < PIXELS_OFFSET || magic !== MAGIC) {
    throw new RangeError(
      `The digits file starts with "${magic}" and has ${bytes.length} bytes, but it ` +
        `must start with "${MAGIC}" and have at least ${PIXELS_OFFSET}. Rebuild the page.`,
    );
  }
  const palette = new Float32Array(PALETTE_SIZE);
  for (let index = 0; index < PALETTE_SIZE; index++) {
    palette[index] = view.getFloat64(PALETTE_OFFSET + 8 * index, true);
  }

  const digits: DigitSamples[] = [];
  let offset = PIXELS_OFFSET;
  for (let digit = 0; digit < DIGITS; digit++) {
    const length = view.getUint32(4 + 4 * digit, true);
    const end = offset + length * PIXELS_PER_SAMPLE;
    if (end > bytes.length) {
      throw new RangeError(
        `The digits file has ${bytes.length} bytes, but its header needs ${end} ` +
          `by the end of digit ${digit}. Rebuild the page.`,
      );
    }
    const raw = new Float32Array(end - offset);
    for (let i = 0; i < raw.length; i++) raw[i] = palette[bytes[offset + i]];
    digits.push({ id: digit, length, raw });
    offset = end;
  }
  return digits;
}
