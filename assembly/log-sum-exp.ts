import { rowLogSumExp, SCRATCH_LOG_SUM, SCRATCH_REFERENCE } from "./inline/log-sum-exp-pass";
import { vexp } from "./inline/vmath";
import { loadTail, storeTail } from "./inline/memory";

// Row-major kernels over `rows` rows of `classes` contiguous f32 values.
// `scratch` is a 64-byte, 16-byte aligned area of the caller's.

/** Writes the log-sum-exp of each row to `out` (f32, one per row). */
export function logSumExpRows(out: usize, x: usize, rows: i32, classes: i32, scratch: usize): void {
  const rowBytes = <usize>classes << 2;
  for (let row = 0; row < rows; row++) {
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
