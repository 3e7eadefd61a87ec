/**
 * A plain float64 reference for every loss, row operation and gradient of the
 * library, written from the formulas alone so that tests can trust it.
 *
 * Everything works on flat `Float64Array`s plus a shape. Speed does not
 * matter here: each formula is spelled out once, one row at a time.
 *
 * Conventions this reference fixes (the library must match them):
 * - A term whose coefficient (class weight times smoothed target) is 0 adds 0,
 *   even when its log-probability is -Infinity, so `0 * log 0 = 0`.
 * - A probability row that sums to 0 counts as all zeros, which the clip then
 *   raises to 1e-7.
 * - The clip bounds are float32 values (see CLIP_HIGH).
 * - Without `classWeights`, a row's class weight is 1.
 * - logSumExp of an all -Infinity row is -Infinity. logSoftmax and softmax of
 *   that row are NaN, because `x - lse` is `-Infinity - -Infinity` in IEEE
 *   arithmetic. A row containing +Infinity (and no NaN) has lse +Infinity.
 * - An included row whose logits are all -Infinity has a NaN loss for the
 *   same reason.
 */

/** A number array nested to any depth. */
export type Nested = number | readonly Nested[];

/** A flat float64 array with its row-major shape. */
export interface Tensor {
  data: Float64Array;
  shape: number[];
}

/** The reductions of the library; `'totals'` returns the three sums. */
export type RefReduction =
  | "none"
  | "sum"
  | "sum_over_batch_size"
  | "mean"
  | "mean_with_sample_weight"
  | "totals";

export interface RefTotals {
  sum: number;
  count: number;
  weightSum: number;
}

/** Options understood by the reference, mirroring the library's options. */
export interface RefOptions {
  fromLogits?: boolean;
  axis?: number;
  labelSmoothing?: number;
  ignoreClass?: number;
  classWeights?: ArrayLike<number>;
  /** A scalar or a flat array broadcast by length, as the library does. */
  sampleWeight?: number | ArrayLike<number>;
  /** A flat array broadcast by length; nonzero means included. */
  mask?: ArrayLike<number | boolean>;
  /** Focal only. @default 0.25 */
  alpha?: number | ArrayLike<number>;
  /** Focal only. @default 2 */
  gamma?: number;
}

/** Per-loss results of a crossentropy before reduction. */
export interface RefLosses {
  /** Weighted loss of each row, exactly 0 for excluded rows. */
  losses: Float64Array;
  lossShape: number[];
  /** Whether each row is neither masked nor ignored. */
  included: boolean[];
  /** Sample weight of each row after broadcasting. */
  sampleWeights: Float64Array;
  totals: RefTotals;
}

/**
 * Clip bounds of probabilities: 1e-7 and 1 - 1e-7 computed in float32, as
 * Keras does, so the upper bound is 0.99999988 and a probability of 1 costs
 * 1.19e-7, not 1e-7.
 */
export const CLIP_LOW = Math.fround(1e-7);
export const CLIP_HIGH = Math.fround(1 - CLIP_LOW);

// ---------------------------------------------------------------------------
// Shapes and nested arrays

/** Returns the shape of a nested array, checking that it is rectangular. */
export function shapeOf(x: Nested): number[] {
  if (typeof x === "number") return [];
  if (x.length === 0) return [0];
  const inner = shapeOf(x[0]);
  for (const item of x) {
    if (shapeOf(item).join() !== inner.join()) {
      throw new Error("shapeOf: ragged nested array");
    }
  }
  return [x.length, ...inner];
}

export function product(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Flattens a nested array in row-major order. */
export function flatten(x: Nested): number[] {
  if (typeof x === "number") return [x];
  const out: number[] = [];
  for (const item of x) out.push(...flatten(item));
  return out;
}

/** Builds a tensor from a nested array, or from flat data and a shape. */
export function tensor(
  x: Nested | ArrayLike<number>,
  shape?: number[],
): Tensor {
  if (shape !== undefined) {
    const data = Float64Array.from(x as ArrayLike<number>);
    if (data.length !== product(shape)) {
      throw new Error(`tensor: ${data.length} values for shape [${shape}]`);
    }
    return { data, shape: [...shape] };
  }
  return {
    data: Float64Array.from(flatten(x as Nested)),
    shape: shapeOf(x as Nested),
  };
}

/** Rebuilds a nested array of the given shape from flat row-major data. */
export function nest(
  data: ArrayLike<number>,
  shape: readonly number[],
): Nested {
  if (shape.length === 0) return data[0];
  const build = (offset: number, dim: number): Nested => {
    const size = product(shape.slice(dim + 1));
    const out: Nested[] = [];
    for (let i = 0; i < shape[dim]; i++) {
      out.push(
        dim === shape.length - 1
          ? data[offset + i]
          : build(offset + i * size, dim + 1),
      );
    }
    return out;
  };
  return build(0, 0);
}

/** Rounds every value to float32, the precision the library reads. */
export function f32(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values, (v) => Math.fround(v));
}

/**
 * Describes how the rows along a class axis sit in a flat buffer: loss `i`
 * reads class `c` at `offset(i, c)`.
 */
export interface ClassLayout {
  numClasses: number;
  numLosses: number;
  lossShape: number[];
  offset(i: number, c: number): number;
}

export function classLayout(shape: readonly number[], axis = -1): ClassLayout {
  const a = axis < 0 ? shape.length + axis : axis;
  if (a < 0 || a >= shape.length) {
    throw new Error(
      `classLayout: axis ${axis} out of range for rank ${shape.length}`,
    );
  }
  const numClasses = shape[a];
  const inner = product(shape.slice(a + 1));
  const lossShape = [...shape.slice(0, a), ...shape.slice(a + 1)];
  return {
    numClasses,
    numLosses: product(lossShape),
    lossShape,
    offset: (i, c) => {
      const outer = Math.floor(i / inner);
      const within = i % inner;
      return outer * numClasses * inner + c * inner + within;
    },
  };
}

function readRow(t: Tensor, layout: ClassLayout, i: number): Float64Array {
  const row = new Float64Array(layout.numClasses);
  for (let c = 0; c < layout.numClasses; c++)
    row[c] = t.data[layout.offset(i, c)];
  return row;
}

function writeRow(
  out: Float64Array,
  layout: ClassLayout,
  i: number,
  row: ArrayLike<number>,
): void {
  for (let c = 0; c < layout.numClasses; c++) out[layout.offset(i, c)] = row[c];
}

/**
 * Broadcasts a per-loss argument to one value per loss: a scalar, one value
 * per loss, or one value per entry of a leading prefix of the loss shape.
 */
export function broadcastPerLoss(
  values: number | boolean | ArrayLike<number | boolean>,
  lossShape: readonly number[],
): Float64Array {
  const n = product(lossShape);
  const out = new Float64Array(n);
  if (typeof values === "number" || typeof values === "boolean") {
    return out.fill(Number(values));
  }
  const length = values.length;
  if (length === 1) return out.fill(Number(values[0]));
  for (let k = 0; k <= lossShape.length; k++) {
    if (product(lossShape.slice(0, k)) === length) {
      const repeat = n / length;
      for (let i = 0; i < n; i++)
        out[i] = Number(values[Math.floor(i / repeat)]);
      return out;
    }
  }
  throw new Error(
    `broadcastPerLoss: ${length} values for losses [${lossShape}]`,
  );
}

// ---------------------------------------------------------------------------
// Row operations

/**
 * Splits log(sum(exp(z))) of one row into max + log1p(rest), where rest is
 * the sum of exp(z_c - max) over every class but the first maximum. Keeping
 * log1p(rest) apart keeps lse - z_c exact when z_c is the max and the other
 * terms are tiny (5e-39 for [88.8, 0, 0]).
 */
export function logSumExpParts(z: ArrayLike<number>): {
  max: number;
  log1pRest: number;
} {
  let max = -Infinity;
  let argmax = -1;
  for (let c = 0; c < z.length; c++) {
    if (Number.isNaN(z[c])) return { max: NaN, log1pRest: NaN };
    if (argmax < 0 || z[c] > max) {
      max = z[c];
      argmax = c;
    }
  }
  if (max === -Infinity || max === Infinity) return { max, log1pRest: 0 };
  let rest = 0;
  for (let c = 0; c < z.length; c++) {
    if (c !== argmax) rest += Math.exp(z[c] - max);
  }
  return { max, log1pRest: Math.log1p(rest) };
}

/** Computes log(sum(exp(z))) of one row with the max shifted out. */
export function logSumExpRow(z: ArrayLike<number>): number {
  const { max, log1pRest } = logSumExpParts(z);
  return max + log1pRest;
}

/** Computes z_c - lse(z) for every class, in the order that keeps it exact. */
export function logSoftmaxRow(z: ArrayLike<number>): Float64Array {
  const { max, log1pRest } = logSumExpParts(z);
  return Float64Array.from(z, (v) => v - max - log1pRest);
}

function mapRows(
  x: Tensor,
  axis: number,
  rowFn: (row: Float64Array) => ArrayLike<number>,
): Tensor {
  const layout = classLayout(x.shape, axis);
  const out = new Float64Array(x.data.length);
  for (let i = 0; i < layout.numLosses; i++) {
    writeRow(out, layout, i, rowFn(readRow(x, layout, i)));
  }
  return { data: out, shape: [...x.shape] };
}

export function logSumExp(x: Tensor, axis = -1): Tensor {
  const layout = classLayout(x.shape, axis);
  const out = new Float64Array(layout.numLosses);
  for (let i = 0; i < layout.numLosses; i++) {
    out[i] = logSumExpRow(readRow(x, layout, i));
  }
  return { data: out, shape: layout.lossShape };
}

export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return mapRows(x, axis, logSoftmaxRow);
}

export function softmax(x: Tensor, axis = -1): Tensor {
  return mapRows(x, axis, (row) => logSoftmaxRow(row).map(Math.exp));
}

// ---------------------------------------------------------------------------
// One row of a crossentropy

/** The fixed per-call settings a row loss needs. */
interface RowSettings {
  fromLogits: boolean;
  focal: boolean;
  gamma: number;
  /** Class weight times focal alpha, one per class. */
  classScale: Float64Array;
  labelSmoothing: number;
}

/** Returns the smoothed target times the class scale: the coefficient of each term. */
function coefficients(y: ArrayLike<number>, s: RowSettings): Float64Array {
  const numClasses = y.length;
  const out = new Float64Array(numClasses);
  for (let c = 0; c < numClasses; c++) {
    const smoothed =
      y[c] * (1 - s.labelSmoothing) + s.labelSmoothing / numClasses;
    out[c] = s.classScale[c] * smoothed;
  }
  return out;
}

/** Normalized and clipped probabilities of one row, with the facts the gradient needs. */
interface ProbabilityRow {
  sum: number;
  normalized: Float64Array;
  clipped: Float64Array;
  /** 1 where the clip left the value unchanged, 0 where it is active. */
  unclipped: Float64Array;
}

function probabilityRow(p: ArrayLike<number>): ProbabilityRow {
  const numClasses = p.length;
  let sum = 0;
  for (let c = 0; c < numClasses; c++) sum += p[c];
  const normalized = new Float64Array(numClasses);
  const clipped = new Float64Array(numClasses);
  const unclipped = new Float64Array(numClasses);
  for (let c = 0; c < numClasses; c++) {
    normalized[c] = sum > 0 ? p[c] / sum : 0;
    const v = normalized[c];
    clipped[c] = Math.min(Math.max(v, CLIP_LOW), CLIP_HIGH);
    unclipped[c] = v > CLIP_LOW && v < CLIP_HIGH ? 1 : 0;
  }
  return { sum, normalized, clipped, unclipped };
}

/** Returns log p and p of one row, from logits or from probabilities. */
function logProbabilities(z: ArrayLike<number>, s: RowSettings) {
  const numClasses = z.length;
  const logP = new Float64Array(numClasses);
  const p = new Float64Array(numClasses);
  if (s.fromLogits) {
    logP.set(logSoftmaxRow(z));
    for (let c = 0; c < numClasses; c++) p[c] = Math.exp(logP[c]);
    return { logP, p, probs: undefined };
  }
  const probs = probabilityRow(z);
  for (let c = 0; c < numClasses; c++) {
    p[c] = probs.clipped[c];
    logP[c] = Math.log(p[c]);
  }
  return { logP, p, probs };
}

/** Computes the unweighted loss of one row: -sum_c k_c (1 - p_c)^gamma log p_c. */
export function rowLoss(
  y: ArrayLike<number>,
  z: ArrayLike<number>,
  s: RowSettings,
): number {
  const k = coefficients(y, s);
  const { logP, p } = logProbabilities(z, s);
  let loss = 0;
  for (let c = 0; c < z.length; c++) {
    if (k[c] === 0) continue;
    const modulation = s.focal ? Math.pow(1 - p[c], s.gamma) : 1;
    loss -= k[c] * modulation * logP[c];
  }
  return loss;
}

/**
 * Computes d(row loss)/d(yPred row) analytically.
 *
 * With a_c = d loss / d(log p_c) from logits, the gradient is
 * g_j = -(A_j - p_j sum_c A_c), where A_c = -a_c. From probabilities the
 * derivative by the clipped value is 0 where the clip is active, and the row
 * normalization q = p / S contributes g_j = (b_j - sum_c b_c q_c) / S.
 */
export function rowGradient(
  y: ArrayLike<number>,
  z: ArrayLike<number>,
  s: RowSettings,
): Float64Array {
  const numClasses = z.length;
  const k = coefficients(y, s);
  const { logP, p, probs } = logProbabilities(z, s);
  const grad = new Float64Array(numClasses);
  if (s.fromLogits) {
    // dLoss/dz_j = -sum_c A_c (delta_cj - p_j), where A_c is the derivative of
    // k_c (1 - p_c)^gamma log p_c by log p_c.
    const bigA = new Float64Array(numClasses);
    let sumA = 0;
    for (let c = 0; c < numClasses; c++) {
      if (k[c] === 0) continue;
      let a = 1;
      if (s.focal) {
        const oneMinus = 1 - p[c];
        a = Math.pow(oneMinus, s.gamma);
        if (s.gamma > 0 && oneMinus > 0) {
          a -= s.gamma * Math.pow(oneMinus, s.gamma - 1) * p[c] * logP[c];
        }
      }
      bigA[c] = k[c] * a;
      sumA += bigA[c];
    }
    for (let j = 0; j < numClasses; j++) grad[j] = p[j] * sumA - bigA[j];
    return grad;
  }
  const row = probs!;
  if (!(row.sum > 0)) return grad;
  // b_c: derivative of the loss by the normalized probability q_c.
  const b = new Float64Array(numClasses);
  let dot = 0;
  for (let c = 0; c < numClasses; c++) {
    if (k[c] === 0 || row.unclipped[c] === 0) continue;
    const q = row.clipped[c];
    let d = -1 / q;
    if (s.focal) {
      const oneMinus = 1 - q;
      d = -Math.pow(oneMinus, s.gamma) / q;
      if (s.gamma > 0) {
        d += s.gamma * Math.pow(oneMinus, s.gamma - 1) * Math.log(q);
      }
    }
    b[c] = k[c] * d;
    dot += b[c] * row.normalized[c];
  }
  for (let j = 0; j < numClasses; j++) grad[j] = (b[j] - dot) / row.sum;
  return grad;
}

// ---------------------------------------------------------------------------
// Whole crossentropies

function settingsFor(
  numClasses: number,
  options: RefOptions,
  focal: boolean,
): RowSettings {
  const classScale = new Float64Array(numClasses).fill(1);
  if (options.classWeights !== undefined) {
    for (let c = 0; c < numClasses; c++)
      classScale[c] = options.classWeights[c];
  }
  const gamma = focal ? (options.gamma ?? 2) : 0;
  if (focal) {
    const alpha = options.alpha ?? 0.25;
    for (let c = 0; c < numClasses; c++) {
      classScale[c] *= typeof alpha === "number" ? alpha : alpha[c];
    }
  }
  const labelSmoothing = options.labelSmoothing ?? 0;
  if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) {
    throw new Error(`labelSmoothing ${labelSmoothing} outside [0, 1]`);
  }
  return {
    fromLogits: options.fromLogits ?? false,
    focal,
    gamma,
    classScale,
    labelSmoothing,
  };
}

/** A target row per loss, or undefined for an ignored row. */
type TargetRows = (Float64Array | undefined)[];

function categoricalTargets(yTrue: Tensor, layout: ClassLayout): TargetRows {
  const rows: TargetRows = [];
  for (let i = 0; i < layout.numLosses; i++)
    rows.push(readRow(yTrue, layout, i));
  return rows;
}

/** One-hot rows of the labels, undefined where the label equals ignoreClass. */
function sparseTargets(
  labels: ArrayLike<number | bigint>,
  layout: ClassLayout,
  ignoreClass: number | undefined,
): TargetRows {
  if (labels.length !== layout.numLosses) {
    throw new Error(
      `sparse: ${labels.length} labels for ${layout.numLosses} losses`,
    );
  }
  const rows: TargetRows = [];
  for (let i = 0; i < layout.numLosses; i++) {
    const label = Number(labels[i]);
    if (ignoreClass !== undefined && label === ignoreClass) {
      rows.push(undefined);
      continue;
    }
    if (!Number.isInteger(label) || label < 0 || label >= layout.numClasses) {
      throw new Error(
        `sparse: label ${label} at ${i} outside [0, ${layout.numClasses})`,
      );
    }
    const row = new Float64Array(layout.numClasses);
    row[label] = 1;
    rows.push(row);
  }
  return rows;
}

/** Everything the forward pass and the gradient of one call share. */
interface Prepared {
  layout: ClassLayout;
  settings: RowSettings;
  targets: TargetRows;
  included: boolean[];
  sampleWeights: Float64Array;
  /** Sum over classes of the class weight times the unsmoothed target. */
  rowClassWeights: Float64Array;
}

function prepare(
  targets: TargetRows,
  layout: ClassLayout,
  options: RefOptions,
  focal: boolean,
): Prepared {
  const settings = settingsFor(layout.numClasses, options, focal);
  const n = layout.numLosses;
  const sampleWeights = broadcastPerLoss(
    options.sampleWeight ?? 1,
    layout.lossShape,
  );
  const mask =
    options.mask === undefined
      ? new Float64Array(n).fill(1)
      : broadcastPerLoss(options.mask, layout.lossShape);
  const included: boolean[] = [];
  const rowClassWeights = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const target = targets[i];
    included.push(mask[i] !== 0 && target !== undefined);
    if (target === undefined) continue;
    if (options.classWeights === undefined) {
      rowClassWeights[i] = 1;
    } else {
      for (let c = 0; c < layout.numClasses; c++) {
        rowClassWeights[i] += options.classWeights[c] * target[c];
      }
    }
  }
  return {
    layout,
    settings,
    targets,
    included,
    sampleWeights,
    rowClassWeights,
  };
}

function forward(prep: Prepared, yPred: Tensor): RefLosses {
  const n = prep.layout.numLosses;
  const losses = new Float64Array(n);
  const totals: RefTotals = { sum: 0, count: 0, weightSum: 0 };
  for (let i = 0; i < n; i++) {
    if (!prep.included[i]) continue;
    const z = readRow(yPred, prep.layout, i);
    losses[i] =
      prep.sampleWeights[i] * rowLoss(prep.targets[i]!, z, prep.settings);
    totals.sum += losses[i];
    totals.count += 1;
    totals.weightSum += prep.sampleWeights[i] * prep.rowClassWeights[i];
  }
  return {
    losses,
    lossShape: prep.layout.lossShape,
    included: prep.included,
    sampleWeights: prep.sampleWeights,
    totals,
  };
}

function prepareCategorical(
  yTrue: Tensor,
  yPred: Tensor,
  options: RefOptions,
  focal: boolean,
) {
  if (yTrue.shape.join() !== yPred.shape.join()) {
    throw new Error(
      `categorical: yTrue [${yTrue.shape}] vs yPred [${yPred.shape}]`,
    );
  }
  const layout = classLayout(yPred.shape, options.axis);
  return prepare(categoricalTargets(yTrue, layout), layout, options, focal);
}

function prepareSparse(
  labels: ArrayLike<number | bigint>,
  yPred: Tensor,
  options: RefOptions,
  focal: boolean,
) {
  const layout = classLayout(yPred.shape, options.axis);
  const targets = sparseTargets(labels, layout, options.ignoreClass);
  return prepare(targets, layout, options, focal);
}

export function categoricalCrossentropy(
  yTrue: Tensor,
  yPred: Tensor,
  options: RefOptions = {},
) {
  return forward(prepareCategorical(yTrue, yPred, options, false), yPred);
}

export function sparseCategoricalCrossentropy(
  labels: ArrayLike<number | bigint>,
  yPred: Tensor,
  options: RefOptions = {},
) {
  return forward(prepareSparse(labels, yPred, options, false), yPred);
}

export function categoricalFocalCrossentropy(
  yTrue: Tensor,
  yPred: Tensor,
  options: RefOptions = {},
) {
  return forward(prepareCategorical(yTrue, yPred, options, true), yPred);
}

export function sparseCategoricalFocalCrossentropy(
  labels: ArrayLike<number | bigint>,
  yPred: Tensor,
  options: RefOptions = {},
) {
  return forward(prepareSparse(labels, yPred, options, true), yPred);
}

// ---------------------------------------------------------------------------
// Reductions

/** Combines the three sums into one reduction; an empty divisor gives 0. */
export function reduceTotals(
  totals: RefTotals,
  reduction: RefReduction,
): number {
  switch (reduction) {
    case "sum":
      return totals.sum;
    case "sum_over_batch_size":
    case "mean":
      return totals.count === 0 ? 0 : totals.sum / totals.count;
    case "mean_with_sample_weight":
      return totals.weightSum === 0 ? 0 : totals.sum / totals.weightSum;
    default:
      throw new Error(`reduceTotals: reduction ${reduction} has no scalar`);
  }
}

export function reduce(result: RefLosses, reduction: RefReduction = "none") {
  if (reduction === "none") return result.losses;
  if (reduction === "totals") return { ...result.totals };
  return reduceTotals(result.totals, reduction);
}

/** Returns the factor of each row's loss in the reduced value (or in sum(dy * losses)). */
function reductionScale(
  result: RefLosses,
  reduction: RefReduction,
  dy?: ArrayLike<number>,
): Float64Array {
  const n = result.losses.length;
  const scale = new Float64Array(n);
  let factor = 1;
  if (reduction === "sum_over_batch_size" || reduction === "mean") {
    factor = result.totals.count === 0 ? 0 : 1 / result.totals.count;
  } else if (reduction === "mean_with_sample_weight") {
    factor = result.totals.weightSum === 0 ? 0 : 1 / result.totals.weightSum;
  } else if (reduction === "totals") {
    throw new Error(
      "gradient: reduction 'totals' has no scalar to differentiate",
    );
  }
  for (let i = 0; i < n; i++) {
    const upstream = reduction === "none" && dy !== undefined ? dy[i] : 1;
    scale[i] = factor * upstream;
  }
  return scale;
}

// ---------------------------------------------------------------------------
// Gradients

export interface RefLossAndGradient {
  /** The reduced loss, or the per-row losses for 'none'. */
  loss: number | Float64Array | RefTotals;
  /** Gradient by yPred, laid out like yPred. */
  grad: Float64Array;
}

function gradient(
  prep: Prepared,
  yPred: Tensor,
  reduction: RefReduction,
  dy?: ArrayLike<number>,
): RefLossAndGradient {
  const result = forward(prep, yPred);
  const dyPerLoss =
    dy === undefined ? undefined : broadcastPerLoss(dy, prep.layout.lossShape);
  const scale = reductionScale(result, reduction, dyPerLoss);
  const grad = new Float64Array(yPred.data.length);
  for (let i = 0; i < prep.layout.numLosses; i++) {
    if (!prep.included[i]) continue;
    const z = readRow(yPred, prep.layout, i);
    const row = rowGradient(prep.targets[i]!, z, prep.settings);
    const factor = scale[i] * prep.sampleWeights[i];
    writeRow(
      grad,
      prep.layout,
      i,
      row.map((g) => g * factor),
    );
  }
  return { loss: reduce(result, reduction), grad };
}

export interface RefGradientOptions extends RefOptions {
  reduction?: RefReduction;
  /** One upstream gradient per loss for 'none', broadcast like sampleWeight. */
  dy?: ArrayLike<number>;
}

export function categoricalCrossentropyWithGrad(
  yTrue: Tensor,
  yPred: Tensor,
  options: RefGradientOptions = {},
  focal = false,
) {
  const prep = prepareCategorical(yTrue, yPred, options, focal);
  return gradient(prep, yPred, options.reduction ?? "none", options.dy);
}

export function sparseCategoricalCrossentropyWithGrad(
  labels: ArrayLike<number | bigint>,
  yPred: Tensor,
  options: RefGradientOptions = {},
  focal = false,
) {
  const prep = prepareSparse(labels, yPred, options, focal);
  return gradient(prep, yPred, options.reduction ?? "none", options.dy);
}

/**
 * Returns the scalar a gradient call differentiates, as a function of the
 * yPred data: the reduced loss, or sum(dy * losses) for 'none'.
 */
export function objective(
  loss: (yPred: Tensor) => RefLosses,
  shape: number[],
  reduction: RefReduction,
  dy?: ArrayLike<number>,
): (data: Float64Array) => number {
  return (data) => {
    const result = loss({ data, shape });
    if (reduction !== "none") return reduceTotals(result.totals, reduction);
    const upstream =
      dy === undefined
        ? new Float64Array(result.losses.length).fill(1)
        : broadcastPerLoss(dy, result.lossShape);
    let total = 0;
    for (let i = 0; i < result.losses.length; i++) {
      if (result.included[i]) total += upstream[i] * result.losses[i];
    }
    return total;
  };
}

/**
 * Estimates the gradient of `f` at `x` by central differences in float64:
 * (f(x + h e_j) - f(x - h e_j)) / 2h with h = step * max(1, |x_j|).
 * Truncation error is O(h^2) and rounding error about 1e-16 |f| / h, so
 * step 1e-5 gives about 1e-10 on smooth, well-scaled losses. Entries that are
 * not finite get a 0 derivative.
 */
export function finiteDifference(
  f: (x: Float64Array) => number,
  x: Float64Array,
  step = 1e-5,
): Float64Array {
  const grad = new Float64Array(x.length);
  const probe = Float64Array.from(x);
  for (let j = 0; j < x.length; j++) {
    if (!Number.isFinite(x[j])) continue;
    const h = step * Math.max(1, Math.abs(x[j]));
    probe[j] = x[j] + h;
    const up = f(probe);
    probe[j] = x[j] - h;
    const down = f(probe);
    probe[j] = x[j];
    grad[j] = (up - down) / (2 * h);
  }
  return grad;
}
