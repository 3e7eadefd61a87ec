import { vexp, vlog } from "./inline/vmath";

// The vector exp and log over whole arrays, so that tests can measure their
// error against f64. `count` must be a multiple of 4.

/** Writes vexp of each value of `src` to `dst`. */
export function expValues(dst: usize, src: usize, count: i32): void {
  for (let i = 0; i < count; i += 4) {
    const offset = <usize>i << 2;
    v128.store(dst + offset, vexp(v128.load(src + offset)));
  }
}

/** Writes vlog of each value of `src` to `dst`. */
export function logValues(dst: usize, src: usize, count: i32): void {
  for (let i = 0; i < count; i += 4) {
    const offset = <usize>i << 2;
    v128.store(dst + offset, vlog(v128.load(src + offset)));
  }
}
