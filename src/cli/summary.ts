// Statistics of the per-row losses, accumulated chunk by chunk.

/** One of the highest losses, with where it is and what the model predicted. */
export interface TopLoss {
  /** Flat index in C order over the loss shape. */
  index: number;
  /** Index along each axis of the loss shape. */
  position: number[];
  /** Class id for sparse labels, argmax of the target row for categorical ones. */
  label: number;
  /** Argmax of the prediction row. */
  predicted: number;
  loss: number;
}

/** Keeps the K highest losses seen so far in a min-heap on the loss. */
export class TopLosses {
  private readonly heap: TopLoss[] = [];

  constructor(readonly capacity: number) {}

  /** Returns whether `loss` would enter the list; NaN never does. */
  accepts(loss: number): boolean {
    if (this.capacity === 0 || !(loss === loss)) {
      return false;
    }
    return this.heap.length < this.capacity || loss > this.heap[0].loss;
  }

  /** Adds an entry that {@link accepts} approved. */
  add(entry: TopLoss): void {
    const heap = this.heap;
    if (heap.length < this.capacity) {
      heap.push(entry);
      this.siftUp(heap.length - 1);
    } else {
      heap[0] = entry;
      this.siftDown(0);
    }
  }

  /** Returns the entries from the highest loss down; ties keep the lower index first. */
  sorted(): TopLoss[] {
    return [...this.heap].sort((a, b) => b.loss - a.loss || a.index - b.index);
  }

  private siftUp(i: number): void {
    const heap = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent].loss <= heap[i].loss) break;
      [heap[parent], heap[i]] = [heap[i], heap[parent]];
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < heap.length && heap[left].loss < heap[smallest].loss)
        smallest = left;
      if (right < heap.length && heap[right].loss < heap[smallest].loss)
        smallest = right;
      if (smallest === i) return;
      [heap[smallest], heap[i]] = [heap[i], heap[smallest]];
      i = smallest;
    }
  }
}

/**
 * Returns the q-th quantile (q in [0, 1]) of ascending `sorted` values with
 * linear interpolation between the closest ranks, numpy.percentile's
 * default method. An empty array gives NaN.
 */
export function quantileOfSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) {
    return NaN;
  }
  const rank = q * (n - 1);
  const lower = Math.floor(rank);
  const upper = Math.min(n - 1, lower + 1);
  const fraction = rank - lower;
  if (fraction === 0) {
    return sorted[lower];
  }
  return sorted[lower] + (sorted[upper] - sorted[lower]) * fraction;
}

/** Converts a flat C-order index to one index per axis of `shape`. */
export function unravelIndex(
  index: number,
  shape: readonly number[],
): number[] {
  const position = new Array<number>(shape.length);
  let rest = index;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    position[axis] = rest % shape[axis];
    rest = Math.floor(rest / shape[axis]);
  }
  return position;
}
