// Vector exp and log for f32x4 lanes. Range reduction follows the Cephes
// single-precision expf and logf (Stephen L. Moshier, Cephes Math Library
// 2.2), and so do the logf coefficients. The expf polynomial is a shorter
// fit of our own.
//
// Constants are built with f32x4.splat at each call. After inlining into a
// kernel, Binaryen folds them into v128.const values.

/** Below this argument, `vexp` returns exactly 0 (the true value is under 1.2e-38). */
export const EXP_LOWER: f32 = -87.3365;
/** Above this argument, `vexp` returns exp(88) = 1.65e38 instead of overflowing. */
export const EXP_UPPER: f32 = 88.0;

// 1.5 * 2^23: adding it rounds an f32 of magnitude below 2^22 to an integer,
// and the integer then sits in the low mantissa bits.
const ROUND_MAGIC: f32 = 12582912.0;
const LOG2E: f32 = 1.44269504088896341;
const LN2_HIGH: f32 = 0.693359375; // exact in f32, so n * LN2_HIGH is exact
const LN2_LOW: f32 = -2.12194440e-4; // ln 2 - LN2_HIGH

// The constants of vexp, each repeated in four lanes. V8 builds a v128.const
// anew on every loop iteration with several instructions, while a load from
// this table is one instruction that the arithmetic can take as an operand.
// In the kernels, this made long rows a few percent faster on Node 20.
// prettier-ignore
const EXP_TABLE = memory.data<f32>([
  EXP_LOWER, EXP_LOWER, EXP_LOWER, EXP_LOWER,
  EXP_UPPER, EXP_UPPER, EXP_UPPER, EXP_UPPER,
  LOG2E, LOG2E, LOG2E, LOG2E,
  ROUND_MAGIC, ROUND_MAGIC, ROUND_MAGIC, ROUND_MAGIC,
  LN2_HIGH, LN2_HIGH, LN2_HIGH, LN2_HIGH,
  LN2_LOW, LN2_LOW, LN2_LOW, LN2_LOW,
  8.312530815601349e-3, 8.312530815601349e-3, 8.312530815601349e-3, 8.312530815601349e-3,
  4.189012199640274e-2, 4.189012199640274e-2, 4.189012199640274e-2, 4.189012199640274e-2,
  1.6667114198207855e-1, 1.6667114198207855e-1, 1.6667114198207855e-1, 1.6667114198207855e-1,
  4.99992311000824e-1, 4.99992311000824e-1, 4.99992311000824e-1, 4.99992311000824e-1,
  1.0, 1.0, 1.0, 1.0,
], 16);

/**
 * Computes exp of each lane.
 *
 * Relative error at most 1.8e-7 (3 ulp, output rounding included) over
 * [-87.3, 88], measured against f64 at 2^22 evenly spaced arguments;
 * test/vector-math.test.ts checks 2e-7. A loss or log-sum-exp built on it
 * thus carries at most about 2e-7 absolute error from exp. Arguments below
 * EXP_LOWER, and -Infinity, give exactly 0. NaN lanes give an unspecified
 * value, so callers must detect NaN input themselves.
 */
@inline
export function vexp(x: v128): v128 {
  const lower = v128.load(EXP_TABLE);
  const magic = v128.load(EXP_TABLE, 48);
  // pmax and pmin with x first keep the order cheap on x86 (a single maxps
  // and minps).
  const clamped = f32x4.pmin(f32x4.pmax(x, lower), v128.load(EXP_TABLE, 16));

  // x = n ln2 + r with n integer and |r| <= ln2 / 2.
  const shifted = f32x4.add(f32x4.mul(clamped, v128.load(EXP_TABLE, 32)), magic);
  const n = f32x4.sub(shifted, magic);
  let r = f32x4.sub(clamped, f32x4.mul(n, v128.load(EXP_TABLE, 64)));
  r = f32x4.sub(r, f32x4.mul(n, v128.load(EXP_TABLE, 80)));

  // exp(r) = 1 + r + r^2 P(r), P of degree 3: a relative-error minimax fit
  // on [-ln2/2, ln2/2] (within 1.1e-7 in f64, 1.7e-7 evaluated in f32).
  const r2 = f32x4.mul(r, r);
  let p = v128.load(EXP_TABLE, 96);
  p = f32x4.add(f32x4.mul(p, r), v128.load(EXP_TABLE, 112));
  p = f32x4.add(f32x4.mul(p, r), v128.load(EXP_TABLE, 128));
  p = f32x4.add(f32x4.mul(p, r), v128.load(EXP_TABLE, 144));
  p = f32x4.add(f32x4.add(f32x4.mul(p, r2), r), v128.load(EXP_TABLE, 160));

  // Multiply by 2^n by adding n to the exponent field. The bits of
  // `shifted` minus those of ROUND_MAGIC are n itself.
  const n_bits = i32x4.sub(shifted, magic);
  const result = i32x4.add(p, i32x4.shl(n_bits, 23));
  return v128.andnot(result, f32x4.lt(x, lower));
}

const SQRT_HALF: f32 = 0.707106781186547524;

/**
 * Computes the natural log of each lane.
 *
 * Absolute error at most 4.0e-8 over [0.5, 2], and relative error at most
 * 7.8e-8 over the other normal floats, measured against f64 at 2^22
 * arguments each. test/vector-math.test.ts checks 5e-8 and 1e-7.
 *
 * 0 gives -Infinity. Negative, NaN, subnormal and infinite lanes give
 * unspecified values, so callers pass only clipped probabilities or 1 - p.
 */
@inline
export function vlog(x: v128): v128 {
  // x = m 2^e with m in [0.5, 1).
  let e = i32x4.sub(i32x4.shr_u(x, 23), i32x4.splat(126));
  const m = v128.or(
    v128.and(x, i32x4.splat(0x007fffff)),
    i32x4.splat(0x3f000000),
  );

  // Move m into [sqrt(0.5), sqrt(2)) and take z = m - 1. A true compare is
  // all ones, which is -1 as an integer.
  const below = f32x4.lt(m, f32x4.splat(SQRT_HALF));
  e = i32x4.add(e, below);
  const z = f32x4.sub(f32x4.add(m, v128.and(m, below)), f32x4.splat(1.0));
  const ef = f32x4.convert_i32x4_s(e);

  // log(1 + z) = z - z^2 / 2 + z^3 P(z), degree 8 in z.
  const z2 = f32x4.mul(z, z);
  let p = f32x4.splat(7.0376836292e-2);
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-1.1514610310e-1));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(1.1676998740e-1));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-1.2420140846e-1));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(1.4249322787e-1));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-1.6668057665e-1));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(2.0000714765e-1));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-2.4999993993e-1));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(3.3333331174e-1));

  let y = f32x4.mul(f32x4.mul(z, z2), p);
  y = f32x4.add(y, f32x4.mul(ef, f32x4.splat(LN2_LOW)));
  y = f32x4.sub(y, f32x4.mul(z2, f32x4.splat(0.5)));
  let result = f32x4.add(z, y);
  result = f32x4.add(result, f32x4.mul(ef, f32x4.splat(LN2_HIGH)));
  return v128.bitselect(
    f32x4.splat(-Infinity),
    result,
    f32x4.eq(x, f32x4.splat(0)),
  );
}
