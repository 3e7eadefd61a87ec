// IEEE 754 binary16 conversion. Node 20 has no Float16Array, so the .npy
// reader widens float16 to float32 and the writer narrows with these.

const float32Scratch = new Float32Array(1);
const uint32Scratch = new Uint32Array(float32Scratch.buffer);

/** Converts the bits of a float16 to its value; exact, because every float16 is a float32. */
export function float16BitsToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) {
    // Subnormal or zero: fraction * 2^-24.
    return sign * fraction * 2 ** -24;
  }
  if (exponent === 0x1f) {
    return fraction === 0 ? sign * Infinity : NaN;
  }
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/**
 * Converts a number to float16 bits: it is rounded to float32, then to the
 * nearest float16 with ties to even, as NumPy casts float32 to float16.
 * Values beyond the float16 range become infinities, NaN stays a quiet NaN.
 * NOTE: for float64 input the two roundings can differ from one direct
 * rounding in the last bit.
 */
export function numberToFloat16Bits(value: number): number {
  float32Scratch[0] = value;
  const bits = uint32Scratch[0];
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;

  if (exponent === 0xff) {
    return mantissa === 0 ? sign | 0x7c00 : sign | 0x7e00;
  }
  // Unbiased exponent of the float32, rebiased for float16.
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) {
    return sign | 0x7c00;
  }
  if (halfExponent <= 0) {
    // Result is subnormal or zero: shift the full significand right.
    if (halfExponent < -10) {
      return sign;
    }
    const significand = mantissa | 0x800000;
    const shift = 14 - halfExponent;
    return sign | roundShiftRightEven(significand, shift);
  }
  // Normal: keep 10 of 23 mantissa bits; a carry out of the mantissa
  // correctly bumps the exponent, up to infinity.
  return sign | ((halfExponent << 10) + roundShiftRightEven(mantissa, 13));
}

/** Shifts value right by shift bits, rounding to nearest with ties to even. */
function roundShiftRightEven(value: number, shift: number): number {
  const kept = value >>> shift;
  const remainder = value - kept * 2 ** shift;
  const half = 2 ** (shift - 1);
  if (remainder > half || (remainder === half && (kept & 1) === 1)) {
    return kept + 1;
  }
  return kept;
}
