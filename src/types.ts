/** A number array nested to any depth, such as `number[][]` for `[batch, classes]`. */
export type NestedArray = number | readonly NestedArray[];

/** Typed arrays accepted as floating-point input. `Float32Array` is the fast path. */
export type FloatArray = Float32Array | Float64Array;

/** Typed arrays accepted as integer class ids. */
export type IntegerArray =
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

/** Floating-point input: a nested array, or a flat typed array with `options.shape`. */
export type FloatInput = NestedArray | FloatArray | readonly number[];

/** Class ids: a nested array, or a flat integer or float typed array. */
export type LabelInput = NestedArray | IntegerArray | FloatArray | readonly number[];

/**
 * The combination of per-row losses into the result.
 *
 * - `'none'`: one weighted loss per row (per token for rank 3), exactly 0 for
 *   masked and ignored rows.
 * - `'sum'`: sum of the weighted losses.
 * - `'sum_over_batch_size'` and its alias `'mean'`: that sum divided by the
 *   number of included rows (weights never enter the divisor, as in Keras).
 * - `'mean_with_sample_weight'`: that sum divided by the sum of the included
 *   rows' effective weights (sample weight times class weight).
 * - `'totals'`: the pieces of every reduction, {@link LossTotals}, so that a
 *   caller who streams a dataset in parts can reduce it exactly.
 *
 * An empty divisor gives 0, not NaN.
 */
export type Reduction =
  | "none"
  | "sum"
  | "sum_over_batch_size"
  | "mean"
  | "mean_with_sample_weight"
  | "totals";

/** The sums behind every reduction; add them across calls, then use {@link reduceTotals}. */
export interface LossTotals {
  /** Sum of the weighted losses of the included rows. */
  sum: number;
  /** Number of included rows: not masked and not ignored. */
  count: number;
  /** Sum of the included rows' sample weight times class weight. */
  weightSum: number;
}

/** Options shared by every crossentropy. */
export interface CrossentropyOptions {
  /** Whether `yPred` contains logits instead of probabilities. @default false */
  fromLogits?: boolean;
  /** Class axis of `yPred`, negative counts from the end. @default -1 */
  axis?: number;
  /** Shape of `yPred` when it is a flat typed array. Required then. */
  shape?: readonly number[];
  /** Target becomes `y * (1 - s) + s / C`. In `[0, 1]`. @default 0 */
  labelSmoothing?: number;
  /** Sparse only: rows whose label equals this value get loss 0 and leave every divisor. */
  ignoreClass?: number;
  /** One weight per class, multiplying that class's term (PyTorch's `weight`). */
  classWeights?: ArrayLike<number>;
  /**
   * A scalar, one weight per row (`[batch]`, also `[batch, 1]`), or one per
   * token (`[batch, time]`). Broadcast to one weight per loss.
   */
  sampleWeight?: number | FloatInput | IntegerArray;
  /** One entry per loss, or per leading batch entry; nonzero means included. */
  mask?: NestedArray | ArrayLike<number | boolean> | IntegerArray;
  /** @default 'none' */
  reduction?: Reduction;
}

/** Options of the focal crossentropies (Keras `CategoricalFocalCrossentropy`). */
export interface FocalOptions extends CrossentropyOptions {
  /** Weight of each class's term: one number for all classes, or one per class. @default 0.25 */
  alpha?: number | ArrayLike<number>;
  /** Focusing exponent on `1 - p`, at least 0. @default 2 */
  gamma?: number;
}

/** Extra options of the calls that also return a gradient. */
export interface GradientOptions {
  /** For `'none'`: one upstream gradient per loss, the gradient is of `sum(dy * losses)`. @default all ones */
  dy?: FloatInput;
  /** Buffer for the gradient, with the length of `yPred`; reused across calls to allocate nothing. */
  out?: Float32Array;
}

/** Options of `logSumExp`, `logSoftmax` and `softmax`. */
export interface RowOptions {
  /** Axis to reduce or normalize over, negative counts from the end. @default -1 */
  axis?: number;
  /** Shape of `x` when it is a flat typed array. Required then. */
  shape?: readonly number[];
  /** Output buffer for `logSoftmax` and `softmax`, with the length of `x`. */
  out?: Float32Array;
}

/**
 * Result of a crossentropy: per-row losses for `'none'` (nested like the input
 * minus the class axis, or a flat `Float32Array` for typed-array input), a
 * number for the other reductions, {@link LossTotals} for `'totals'`.
 */
export type LossResult = NestedArray | Float32Array | number | LossTotals;

/** Result of a call with gradient. `grad` has the shape and form of `yPred`. */
export interface LossAndGradient<L = LossResult> {
  loss: L;
  grad: NestedArray | Float32Array;
}
