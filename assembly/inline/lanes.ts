import { vexp, vlog } from "./vmath";

// Short rows with one row per lane: four rows at a time, so that the
// per-row work of a reduction (lane sums, the final log) is shared by four
// rows. Used for rows of at most LANE_CLASSES classes.

/** Maximum classes per row for the lane kernels, whose columns fill 16 * LANE_CLASSES bytes of scratch. */
export const LANE_CLASSES: i32 = 64;

// Scratch layout of the lane kernels.
export const LANE_SHIFT: usize = 0; // v128: each lane's max, 0 where it is -Infinity
export const LANE_SPECIAL: usize = 16; // v128: lanes with NaN or +Infinity
export const LANE_SUM: usize = 32; // v128: each lane's sum S
export const LANE_COLUMNS: usize = 64; // LANE_CLASSES v128 columns, to 1088
export const LANE_RESULTS: usize = 1088; // v128: one result per lane
export const LANE_FACTORS: usize = 1104; // v128: f32 gradient factor per lane
export const LANE_TARGETS: usize = 1120; // v128: i32 class id per lane
export const LANE_EXACT: usize = 1152; // 64 bytes for the exact row path

/** Bytes of scratch memory the lane kernels need. */
export const LANE_SCRATCH_BYTES: i32 = 1216;

/**
 * Computes log S = log(sum_j exp(x_j - m)) for four rows at once, one row
 * per lane, where m is the row max (0 for a row of only -Infinity).
 *
 * Stores m in LANE_SHIFT and S in LANE_SUM, and marks rows holding NaN or
 * +Infinity in LANE_SPECIAL; the caller handles those rows another way. A
 * row of only -Infinity gives m = 0 and log S = -Infinity. Leaves the terms
 * exp(x_j - m) as columns at LANE_COLUMNS.
 */
@inline
export function laneLogSum(row0: usize, row1: usize, row2: usize, row3: usize, classes: i32, scratch: usize): v128 {
  const columns = scratch + LANE_COLUMNS;
  let m = f32x4.splat(-Infinity);
  let special = f32x4.splat(0);

  // 1. Transpose 4 x 4 blocks into columns, and take the max per lane.
  let j = 0;
  for (; j + 4 <= classes; j += 4) {
    const offset = <usize>j << 2;
    const a = v128.load(row0 + offset);
    const b = v128.load(row1 + offset);
    const c = v128.load(row2 + offset);
    const d = v128.load(row3 + offset);
    const ab01 = v128.shuffle<f32>(a, b, 0, 4, 1, 5);
    const cd01 = v128.shuffle<f32>(c, d, 0, 4, 1, 5);
    const ab23 = v128.shuffle<f32>(a, b, 2, 6, 3, 7);
    const cd23 = v128.shuffle<f32>(c, d, 2, 6, 3, 7);
    const column0 = v128.shuffle<f32>(ab01, cd01, 0, 1, 4, 5);
    const column1 = v128.shuffle<f32>(ab01, cd01, 2, 3, 6, 7);
    const column2 = v128.shuffle<f32>(ab23, cd23, 0, 1, 4, 5);
    const column3 = v128.shuffle<f32>(ab23, cd23, 2, 3, 6, 7);
    const at = columns + (<usize>j << 4);
    v128.store(at, column0);
    v128.store(at, column1, 16);
    v128.store(at, column2, 32);
    v128.store(at, column3, 48);
    // NaN in a lane of the sum flags NaN or a mix of infinities.
    const check = f32x4.add(f32x4.add(column0, column1), f32x4.add(column2, column3));
    special = v128.or(special, f32x4.ne(check, check));
    m = f32x4.pmax(m, f32x4.pmax(f32x4.pmax(column0, column1), f32x4.pmax(column2, column3)));
  }
  for (; j < classes; j++) {
    const offset = <usize>j << 2;
    let column = f32x4.splat(load<f32>(row0 + offset));
    column = f32x4.replace_lane(column, 1, load<f32>(row1 + offset));
    column = f32x4.replace_lane(column, 2, load<f32>(row2 + offset));
    column = f32x4.replace_lane(column, 3, load<f32>(row3 + offset));
    v128.store(columns + (<usize>j << 4), column);
    special = v128.or(special, f32x4.ne(column, column));
    m = f32x4.pmax(m, column);
  }
  special = v128.or(special, f32x4.eq(m, f32x4.splat(Infinity)));
  const shift = v128.and(m, f32x4.gt(m, f32x4.splat(-Infinity)));
  v128.store(scratch + LANE_SHIFT, shift);
  v128.store(scratch + LANE_SPECIAL, special);

  // 2. Sum exp(x - m) per lane in two accumulators. Every term is at most
  //    1 and one is exactly 1, so each f32 sum of at most LANE_CLASSES / 2
  //    terms stays within 2e-6 relative.
  let sum0 = f32x4.splat(0);
  let sum1 = f32x4.splat(0);
  j = 0;
  //    The terms replace the columns, for a gradient pass to reuse.
  for (; j + 2 <= classes; j += 2) {
    const at = columns + (<usize>j << 4);
    const e0 = vexp(f32x4.sub(v128.load(at), shift));
    const e1 = vexp(f32x4.sub(v128.load(at, 16), shift));
    v128.store(at, e0);
    v128.store(at, e1, 16);
    sum0 = f32x4.add(sum0, e0);
    sum1 = f32x4.add(sum1, e1);
  }
  if (j < classes) {
    const at = columns + (<usize>j << 4);
    const e = vexp(f32x4.sub(v128.load(at), shift));
    v128.store(at, e);
    sum0 = f32x4.add(sum0, e);
  }
  const sum = f32x4.add(sum0, sum1);
  v128.store(scratch + LANE_SUM, sum);
  return vlog(sum);
}
