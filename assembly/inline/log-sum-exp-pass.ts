import { vexp } from "./vmath";
import { addWide, clearWide, loadTail, scaleWide } from "./memory";

// A row's log-sum-exp is stored as lse = R + log S, where R is an element of
// the row within REFERENCE_SLACK of its max and S = sum_j exp(x_j - R).
// Keeping R and log S apart lets callers form x_j - lse as (x_j - R) - log S,
// which stays exact when x_j and R are huge and close (1e30, say).
export const SCRATCH_REFERENCE: usize = 0; // f64 R
export const SCRATCH_LOG_SUM: usize = 8; // f64 log S
// Bytes 16 to 31 are free.
export const SCRATCH_SUMS: usize = 32; // 32 bytes, the wide sum of exp terms

// Each lane keeps its own reference and only moves it when a block max
// exceeds it by more than this, so the sum is rescaled rarely and every term
// stays below exp(16) = 8.9e6, far from f32 overflow.
const REFERENCE_SLACK: f32 = 16.0;

/**
 * Computes the log-sum-exp of `n` contiguous f32 values in one pass.
 *
 * Online normalizer (Milakov and Gimelshein, "Online normalizer calculation
 * for softmax", 2018) in four lanes: each lane keeps a reference r and
 * s = sum exp(x - r), and when r rises to r' the sum becomes
 * s exp(r - r'). Terms are summed in f32 per block of 16 values and then
 * in f64, so rows of 2^18 classes stay within 1e-6 relative.
 *
 * Returns R + log S and stores R and log S in the scratch area. A row with
 * NaN gives NaN, with +Infinity gives +Infinity, and with only -Infinity
 * gives -Infinity. Those rows store the result as R and 0 as log S.
 */
@inline
export function rowLogSumExp(x: usize, n: i32, scratch: usize): f64 {
  const sums = scratch + SCRATCH_SUMS;
  clearWide(sums);
  const negativeInfinity = f32x4.splat(-Infinity);
  const slack = f32x4.splat(REFERENCE_SLACK);
  let reference = negativeInfinity;
  // The reference where it is finite, 0 where it is still -Infinity, so
  // that x - shift never computes -Infinity - (-Infinity).
  let shift = f32x4.splat(0);
  // NaN in a lane of v0 + v1 + v2 + v3 flags a NaN or a mix of infinities,
  // and sends the row to the exact scalar path.
  let special = f32x4.splat(0);

  let i = 0;
  const blockEnd = n & ~15;
  for (; i < blockEnd; i += 16) {
    const p = x + (<usize>i << 2);
    const v0 = v128.load(p);
    const v1 = v128.load(p, 16);
    const v2 = v128.load(p, 32);
    const v3 = v128.load(p, 48);
    const check = f32x4.add(f32x4.add(v0, v1), f32x4.add(v2, v3));
    special = v128.or(special, f32x4.ne(check, check));
    const blockMax = f32x4.pmax(f32x4.pmax(v0, v1), f32x4.pmax(v2, v3));
    const raise = f32x4.gt(blockMax, f32x4.add(reference, slack));
    if (v128.any_true(raise)) {
      reference = v128.bitselect(blockMax, reference, raise);
      const next = v128.and(reference, f32x4.gt(reference, negativeInfinity));
      scaleWide(sums, vexp(f32x4.sub(shift, next)));
      shift = next;
    }
    const e = f32x4.add(
      f32x4.add(vexp(f32x4.sub(v0, shift)), vexp(f32x4.sub(v1, shift))),
      f32x4.add(vexp(f32x4.sub(v2, shift)), vexp(f32x4.sub(v3, shift))),
    );
    addWide(sums, e);
  }

  // The remaining vectors, then the last 1 to 3 values padded with
  // -Infinity, which adds exp(-Infinity) = 0.
  for (; i < n; i += 4) {
    const p = x + (<usize>i << 2);
    const v = i + 4 <= n ? v128.load(p) : loadTail(p, n - i, -Infinity);
    special = v128.or(special, f32x4.ne(v, v));
    const raise = f32x4.gt(v, f32x4.add(reference, slack));
    if (v128.any_true(raise)) {
      reference = v128.bitselect(v, reference, raise);
      const next = v128.and(reference, f32x4.gt(reference, negativeInfinity));
      scaleWide(sums, vexp(f32x4.sub(shift, next)));
      shift = next;
    }
    addWide(sums, vexp(f32x4.sub(v, shift)));
  }

  const r = max(
    max(f32x4.extract_lane(reference, 0), f32x4.extract_lane(reference, 1)),
    max(f32x4.extract_lane(reference, 2), f32x4.extract_lane(reference, 3)),
  );
  if (v128.any_true(special) || r == Infinity) {
    return rowLogSumExpExact(x, n, scratch);
  }
  if (r == -Infinity) {
    store<f64>(scratch + SCRATCH_REFERENCE, -Infinity);
    store<f64>(scratch + SCRATCH_LOG_SUM, 0);
    return -Infinity;
  }

  // Bring every lane to the common reference r. A lane still at -Infinity
  // has s = 0, and its factor is finite (clamped), so it adds 0.
  const factor = vexp(f32x4.sub(shift, f32x4.splat(r)));
  const low = f64x2.mul(v128.load(sums), f64x2.promote_low_f32x4(factor));
  const high = f64x2.mul(
    v128.load(sums, 16),
    f64x2.promote_low_f32x4(v128.shuffle<f32>(factor, factor, 2, 3, 0, 1)),
  );
  const both = f64x2.add(low, high);
  const total = f64x2.extract_lane(both, 0) + f64x2.extract_lane(both, 1);
  const logSum = Math.log(total);
  store<f64>(scratch + SCRATCH_REFERENCE, <f64>r);
  store<f64>(scratch + SCRATCH_LOG_SUM, logSum);
  return <f64>r + logSum;
}

/**
 * Computes the log-sum-exp in f64 with IEEE special values, for the rare
 * rows that hold NaN, +Infinity, or values whose sum overflows.
 */
function rowLogSumExpExact(x: usize, n: i32, scratch: usize): f64 {
  let m: f64 = -Infinity;
  for (let j = 0; j < n; j++) {
    const v = <f64>load<f32>(x + (<usize>j << 2));
    if (isNaN(v)) {
      m = NaN;
      break;
    }
    if (v > m) m = v;
  }
  if (!isFinite(m)) {
    store<f64>(scratch + SCRATCH_REFERENCE, m);
    store<f64>(scratch + SCRATCH_LOG_SUM, 0);
    return m;
  }
  let total: f64 = 0;
  for (let j = 0; j < n; j++) {
    total += Math.exp(<f64>load<f32>(x + (<usize>j << 2)) - m);
  }
  const logSum = Math.log(total);
  store<f64>(scratch + SCRATCH_REFERENCE, m);
  store<f64>(scratch + SCRATCH_LOG_SUM, logSum);
  return m + logSum;
}
