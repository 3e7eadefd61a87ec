// Partial vector loads and stores for the last 1 to 3 values of a row, and
// wide (f64) accumulators in scratch memory owned by the caller.

/** Loads `count` (1 to 3) floats from `ptr`, filling the other lanes with `pad`. */
@inline
export function loadTail(ptr: usize, count: i32, pad: f32): v128 {
  let v = f32x4.replace_lane(f32x4.splat(pad), 0, load<f32>(ptr));
  if (count > 1) v = f32x4.replace_lane(v, 1, load<f32>(ptr, 4));
  if (count > 2) v = f32x4.replace_lane(v, 2, load<f32>(ptr, 8));
  return v;
}

/** Stores the first `count` (1 to 3) lanes of `value` at `ptr`. */
@inline
export function storeTail(ptr: usize, value: v128, count: i32): void {
  store<f32>(ptr, f32x4.extract_lane(value, 0));
  if (count > 1) store<f32>(ptr, f32x4.extract_lane(value, 1), 4);
  if (count > 2) store<f32>(ptr, f32x4.extract_lane(value, 2), 8);
}

/** Clears a wide accumulator: four f64 lanes (32 bytes) at `acc`. */
@inline
export function clearWide(acc: usize): void {
  v128.store(acc, f64x2.splat(0));
  v128.store(acc, f64x2.splat(0), 16);
}

/** Widens the four f32 lanes of `v` and adds them to the wide accumulator at `acc`. */
@inline
export function addWide(acc: usize, v: v128): void {
  const high = v128.shuffle<f32>(v, v, 2, 3, 0, 1);
  v128.store(acc, f64x2.add(v128.load(acc), f64x2.promote_low_f32x4(v)));
  v128.store(acc, f64x2.add(v128.load(acc, 16), f64x2.promote_low_f32x4(high)), 16);
}

/** Multiplies the wide accumulator at `acc` lane by lane with the f32 lanes of `scale`. */
@inline
export function scaleWide(acc: usize, scale: v128): void {
  const high = v128.shuffle<f32>(scale, scale, 2, 3, 0, 1);
  v128.store(acc, f64x2.mul(v128.load(acc), f64x2.promote_low_f32x4(scale)));
  v128.store(acc, f64x2.mul(v128.load(acc, 16), f64x2.promote_low_f32x4(high)), 16);
}

/** Returns the sum of the four f64 lanes of the wide accumulator at `acc`. */
@inline
export function totalWide(acc: usize): f64 {
  const both = f64x2.add(v128.load(acc), v128.load(acc, 16));
  return f64x2.extract_lane(both, 0) + f64x2.extract_lane(both, 1);
}
