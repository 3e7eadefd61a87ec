// Layout changes for a class axis that is not last: a slab [classes, width]
// (class-major, as in [N, C, d1, ...] input) becomes [width, classes] rows
// for the row kernels, and back.

// Tiles of 16 x 16 floats keep both the reads and the writes within a few
// cache lines.
const TILE: i32 = 16;

/** Writes the transpose of the row-major [rows, cols] matrix `src` to `dst` ([cols, rows]). */
export function transpose(dst: usize, src: usize, rows: i32, cols: i32): void {
  for (let r0 = 0; r0 < rows; r0 += TILE) {
    const r1 = min(r0 + TILE, rows);
    for (let c0 = 0; c0 < cols; c0 += TILE) {
      const c1 = min(c0 + TILE, cols);
      for (let r = r0; r < r1; r++) {
        const from = src + ((<usize>r * <usize>cols) << 2);
        for (let c = c0; c < c1; c++) {
          store<f32>(dst + ((<usize>c * <usize>rows + <usize>r) << 2), load<f32>(from + (<usize>c << 2)));
        }
      }
    }
  }
}
