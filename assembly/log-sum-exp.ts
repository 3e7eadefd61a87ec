import { rowLogSumExp, SCRATCH_LOG_SUM, SCRATCH_REFERENCE } from "./inline/log-sum-exp-pass";
import { vexp } from "./inline/vmath";
import { loadTail, storeTail } from "./inline/memory";
import { LANE_CLASSES, LANE_EXACT, LANE_RESULTS, LANE_SHIFT, LANE_SPECIAL, laneLogSum } from "./inline/lanes";

// Row-major kernels over `rows` rows of `classes` contiguous f32 values.
// `scratch` is a 16-byte aligned area of the caller's, LANE_SCRATCH_BYTES
// long.

/** Writes the log-sum-exp of each row to `out` (f32, one per row). */
export function logSumExpRows(out: usize, x: usize, rows: i32, classes: i32, scratch: usize): void {
  const rowBytes = <usize>classes << 2;
  let row = 0;
  if (classes <= LANE_CLASSES) {
    // Four rows at a time, one per lane. The last group repeats its last
    // row in the unused lanes, so chunk boundaries never change a result.
    for (; row < rows; row += 4) {
      const count = min(4, rows - row);
      const first = x + <usize>row * rowBytes;
      const last = <usize>(count - 1) * rowBytes;
      const logSum = laneLogSum(first, first + min<usize>(rowBytes, last), first + min<usize>(2 * rowBytes, last), first + min<usize>(3 * rowBytes, last), classes, scratch);
      const lse = f32x4.add(v128.load(scratch + LANE_SHIFT), logSum);
      v128.store(scratch + LANE_RESULTS, lse);
      for (let k = 0; k < count; k++) {
        const value = load<i32>(scratch + LANE_SPECIAL + (<usize>k << 2)) != 0
          ? <f32>rowLogSumExp(first + <usize>k * rowBytes, classes, scratch + LANE_EXACT)
          : load<f32>(scratch + LANE_RESULTS + (<usize>k << 2));
        store<f32>(out + (<usize>(row + k) << 2), value);
      }
    }
  }
  for (; row < rows; row++) {
    const lse = rowLogSumExp(x + <usize>row * rowBytes, classes, scratch);
    store<f32>(out + (<usize>row << 2), <f32>lse);
  }
}

/**
 * Writes softmax (or log-softmax when `log` is nonzero) of each row to
 * `out`, which may equal `x`.
 *
 * log_softmax(x)_j = (x_j - R) - log S, with R and log S from the
 * log-sum-exp pass, and softmax is its exp. A row whose log-sum-exp is not
 * finite gets x_j - lse in f64, which is NaN for a row of only -Infinity.
 */
export function softmaxRows(out: usize, x: usize, rows: i32, classes: i32, log: i32, scratch: usize): void {
  const rowBytes = <usize>classes << 2;
  for (let row = 0; row < rows; row++) {
    const input = x + <usize>row * rowBytes;
    const output = out + <usize>row * rowBytes;
    const lse = rowLogSumExp(input, classes, scratch);
    if (!isFinite(lse)) {
      for (let j = 0; j < classes; j++) {
        const value = <f64>load<f32>(input + (<usize>j << 2)) - lse;
        store<f32>(output + (<usize>j << 2), <f32>(log ? value : Math.exp(value)));
      }
      continue;
    }
    const reference = f32x4.splat(<f32>load<f64>(scratch + SCRATCH_REFERENCE));
    const logSum = f32x4.splat(<f32>load<f64>(scratch + SCRATCH_LOG_SUM));
    let j = 0;
    for (; j + 4 <= classes; j += 4) {
      const offset = <usize>j << 2;
      let value = f32x4.sub(f32x4.sub(v128.load(input + offset), reference), logSum);
      if (!log) value = vexp(value);
      v128.store(output + offset, value);
    }
    if (j < classes) {
      const offset = <usize>j << 2;
      const tail = classes - j;
      let value = loadTail(input + offset, tail, 0);
      value = f32x4.sub(f32x4.sub(value, reference), logSum);
      if (!log) value = vexp(value);
      storeTail(output + offset, value, tail);
    }
  }
}
