// Hardware ceilings for a crossentropy kernel, in the same SIMD128 subset
// that the library uses. One kernel only reads and sums every float (the
// memory ceiling). The other also computes exp of every float (the compute
// ceiling), because crossentropy from logits needs one exp per logit.

/** First byte free for input data: the end of static data, rounded to 64. */
export function dataStart(): usize {
  return (__heap_base + 63) & ~63;
}

/** Returns the sum of `n` floats at `ptr`, 16 per step in four accumulators. */
export function sumF32(ptr: usize, n: i32): f32 {
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  let a2 = f32x4.splat(0);
  let a3 = f32x4.splat(0);
  const end = ptr + (<usize>n << 2);
  const vectorEnd = ptr + (<usize>(n & ~15) << 2);
  let p = ptr;
  for (; p < vectorEnd; p += 64) {
    a0 = f32x4.add(a0, v128.load(p));
    a1 = f32x4.add(a1, v128.load(p, 16));
    a2 = f32x4.add(a2, v128.load(p, 32));
    a3 = f32x4.add(a3, v128.load(p, 48));
  }
  const a = f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3));
  let sum =
    f32x4.extract_lane(a, 0) +
    f32x4.extract_lane(a, 1) +
    f32x4.extract_lane(a, 2) +
    f32x4.extract_lane(a, 3);
  for (; p < end; p += 4) sum += load<f32>(p);
  return sum;
}

// A Cephes-style expf in f32x4, with the range reduction and degree-5
// coefficients of S. L. Moshier's Cephes expf. It writes exp(x) = 2^n exp(r)
// with n = nearest(x log2(e)) and r = x - n ln(2), where ln(2) = C1 + C2 and
// n * C1 is exact. Then exp(r) = 1 + r + r^2 P(r) on |r| <= ln(2)/2.
// Input is clamped to [-87.33654, 88], so results stay finite and normal.
// Error bound: maximum relative error 8.1e-8 against float64 Math.exp over
// 2^24 evenly spaced float32 inputs in [-87, 88], measured by
// measureExpError in lib/ceilings.mjs on every benchmark run.
const LOG2E: f32 = 1.44269504088896341;
const C1: f32 = 0.693359375;
const C2: f32 = -2.12194440e-4;
const P0: f32 = 1.9875691500e-4;
const P1: f32 = 1.3981999507e-3;
const P2: f32 = 8.3334519073e-3;
const P3: f32 = 4.1665795894e-2;
const P4: f32 = 1.6666665459e-1;
const P5: f32 = 5.0000001201e-1;
const SHIFTER: f32 = 12582912.0 + 127.0;

// The constants are loaded from linear memory once per call. Written as
// f32x4.splat, Binaryen folds them into v128.const operands inside the loop,
// and on Node 20 (x64) that loop ran about 1.2 to 1.35 times slower
// (measured with 16384 floats in cache).
const EXP_CONSTANTS = memory.data<f32>([
  88.0, -87.33654, LOG2E, SHIFTER, C1, C2, P0, P1, P2, P3, P4, P5, 1.0,
]);

// @ts-ignore: decorator
@inline
function splatConstant(index: i32): v128 {
  return v128.load32_splat(EXP_CONSTANTS + (<usize>index << 2));
}

// @ts-ignore: decorator
@inline
function expF32x4(
  v: v128, hi: v128, lo: v128, log2e: v128, shifter: v128, c1: v128,
  c2: v128, p0: v128, p1: v128, p2: v128, p3: v128, p4: v128, p5: v128,
  one: v128,
): v128 {
  const x = f32x4.pmax(f32x4.pmin(v, hi), lo);
  // Adding 1.5 * 2^23 + 127 rounds x * log2(e) to the nearest integer n and
  // leaves n + 127 in the low mantissa bits, ready to shift into an exponent.
  const t = f32x4.add(f32x4.mul(x, log2e), shifter);
  const n = f32x4.sub(t, shifter);
  let r = f32x4.sub(x, f32x4.mul(n, c1));
  r = f32x4.sub(r, f32x4.mul(n, c2));
  let p = f32x4.add(f32x4.mul(p0, r), p1);
  p = f32x4.add(f32x4.mul(p, r), p2);
  p = f32x4.add(f32x4.mul(p, r), p3);
  p = f32x4.add(f32x4.mul(p, r), p4);
  p = f32x4.add(f32x4.mul(p, r), p5);
  const y = f32x4.add(f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), r), one);
  return f32x4.mul(y, i32x4.shl(t, 23));
}

/**
 * Returns the sum of exp of `n` floats at `ptr`, 16 per step in four
 * accumulators, so that four independent exp chains overlap.
 */
export function expSumF32(ptr: usize, n: i32): f32 {
  const hi = splatConstant(0);
  const lo = splatConstant(1);
  const log2e = splatConstant(2);
  const shifter = splatConstant(3);
  const c1 = splatConstant(4);
  const c2 = splatConstant(5);
  const p0 = splatConstant(6);
  const p1 = splatConstant(7);
  const p2 = splatConstant(8);
  const p3 = splatConstant(9);
  const p4 = splatConstant(10);
  const p5 = splatConstant(11);
  const one = splatConstant(12);
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  let a2 = f32x4.splat(0);
  let a3 = f32x4.splat(0);
  const end = ptr + (<usize>n << 2);
  const vectorEnd = ptr + (<usize>(n & ~15) << 2);
  let p = ptr;
  for (; p < vectorEnd; p += 64) {
    a0 = f32x4.add(a0, expF32x4(v128.load(p), hi, lo, log2e, shifter, c1, c2, p0, p1, p2, p3, p4, p5, one));
    a1 = f32x4.add(a1, expF32x4(v128.load(p, 16), hi, lo, log2e, shifter, c1, c2, p0, p1, p2, p3, p4, p5, one));
    a2 = f32x4.add(a2, expF32x4(v128.load(p, 32), hi, lo, log2e, shifter, c1, c2, p0, p1, p2, p3, p4, p5, one));
    a3 = f32x4.add(a3, expF32x4(v128.load(p, 48), hi, lo, log2e, shifter, c1, c2, p0, p1, p2, p3, p4, p5, one));
  }
  const a = f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3));
  let sum =
    f32x4.extract_lane(a, 0) +
    f32x4.extract_lane(a, 1) +
    f32x4.extract_lane(a, 2) +
    f32x4.extract_lane(a, 3);
  for (; p < end; p += 4) {
    const e = expF32x4(v128.load32_splat(p), hi, lo, log2e, shifter, c1, c2, p0, p1, p2, p3, p4, p5, one);
    sum += f32x4.extract_lane(e, 0);
  }
  return sum;
}

/** Writes exp of `n` floats at `src` to `dst`, for measuring the error bound. */
export function expF32(dst: usize, src: usize, n: i32): void {
  const hi = splatConstant(0);
  const lo = splatConstant(1);
  const log2e = splatConstant(2);
  const shifter = splatConstant(3);
  const c1 = splatConstant(4);
  const c2 = splatConstant(5);
  const p0 = splatConstant(6);
  const p1 = splatConstant(7);
  const p2 = splatConstant(8);
  const p3 = splatConstant(9);
  const p4 = splatConstant(10);
  const p5 = splatConstant(11);
  const one = splatConstant(12);
  for (let i = 0; i < n; i++) {
    const offset = <usize>i << 2;
    const e = expF32x4(v128.load32_splat(src + offset), hi, lo, log2e, shifter, c1, c2, p0, p1, p2, p3, p4, p5, one);
    store<f32>(dst + offset, f32x4.extract_lane(e, 0));
  }
}
