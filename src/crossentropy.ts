import { Arena } from "./arena.js";
import { defaultInstance, type CrossentropyVariant } from "./instance.js";
import {
  checkFinite,
  checkNonNegative,
  checkReduction,
  checkUnitInterval,
  perClass,
  perLoss,
  type PerLoss,
} from "./options.js";
import { chunkCapacity, loadChunk, rowLayout, splitChunks, storeChunk, type Chunk, type RowLayout } from "./rows.js";
import {
  flattenFloats,
  describe,
  flattenLabels,
  formatShape,
  product,
  resolveAxis,
  typeName,
  unflatten,
  type Flat,
} from "./shape.js";
import type {
  CrossentropyOptions,
  FocalOptions,
  GradientOptions,
  LossResult,
  NestedArray,
  Reduction,
} from "./types.js";

// Statuses of the crossentropy kernels (assembly/crossentropy.ts).
const STATUS_INVALID_PROBABILITY = 1;
const STATUS_LABEL_OUT_OF_RANGE = 2;
// At least SCRATCH_BYTES of assembly/crossentropy.ts (1088).
const SCRATCH_BYTES = 2048;

/** The kind of crossentropy a call computes. */
export interface LossKind {
  /** Target rows (categorical) instead of class ids (sparse). */
  dense: boolean;
  focal: boolean;
}

/** Result of the shared implementation: the loss, and the gradient when asked for. */
export interface Computed {
  loss: LossResult;
  grad?: NestedArray | Float32Array;
}

let arena: Arena | undefined;

/** Everything a call needs besides the inputs, checked before any kernel runs. */
interface Plan {
  layout: RowLayout;
  reduction: Reduction;
  fromLogits: boolean;
  smoothing: number;
  gamma: number;
  alpha: Float32Array | null;
  classWeights: Float32Array | null;
  sampleWeight: PerLoss | null;
  mask: PerLoss | null;
}

function makePlan(kind: LossKind, pred: Flat, options: FocalOptions): Plan {
  if (pred.shape.length === 0) {
    throw new RangeError("yPred is a single number, but it needs a class axis; pass at least one row of classes.");
  }
  const axis = resolveAxis(options.axis, pred.shape.length, "yPred");
  const layout = rowLayout(pred.shape, axis);
  if (layout.classes === 0) {
    throw new RangeError(
      `yPred has shape ${formatShape(pred.shape)}, so class axis ${axis} has size 0; ` +
        `every row needs at least one class.`,
    );
  }
  if (options.fromLogits !== undefined && typeof options.fromLogits !== "boolean") {
    throw new TypeError(`options.fromLogits is ${describe(options.fromLogits)}, but it must be true or false.`);
  }
  if (!kind.dense && options.ignoreClass !== undefined && !Number.isInteger(options.ignoreClass)) {
    const error = typeof options.ignoreClass === "number" ? RangeError : TypeError;
    throw new error(`options.ignoreClass is ${describe(options.ignoreClass)}, but it must be an integer.`);
  }
  if (kind.dense && options.ignoreClass !== undefined) {
    throw new TypeError(
      "options.ignoreClass applies to class ids; with target rows, use options.mask to leave rows out.",
    );
  }
  if (!kind.focal && (options.alpha !== undefined || options.gamma !== undefined)) {
    throw new TypeError(
      "options.alpha and options.gamma apply to the focal crossentropies; call categoricalFocalCrossentropy " +
        "or sparseCategoricalFocalCrossentropy.",
    );
  }
  const lossShape = layout.lossShape;
  const sampleWeight =
    options.sampleWeight === undefined ? null : perLoss(options.sampleWeight, lossShape, "options.sampleWeight");
  if (sampleWeight) checkFinite(sampleWeight, "options.sampleWeight");
  const mask = options.mask === undefined ? null : perLoss(options.mask, lossShape, "options.mask");
  if (mask) {
    for (let i = 0; i < mask.data.length; i++) {
      if (Number.isNaN(mask.data[i])) {
        throw new RangeError(`options.mask[${i}] is NaN, but mask entries must be numbers or booleans (nonzero means included).`);
      }
    }
  }
  return {
    layout,
    reduction: checkReduction(options.reduction),
    fromLogits: options.fromLogits ?? false,
    smoothing: checkUnitInterval(options.labelSmoothing, "options.labelSmoothing"),
    gamma: kind.focal ? checkNonNegative(options.gamma, 2, "options.gamma") : 0,
    alpha: kind.focal ? perClass(options.alpha ?? 0.25, layout.classes, "options.alpha", true) : null,
    classWeights:
      options.classWeights === undefined
        ? null
        : perClass(options.classWeights, layout.classes, "options.classWeights", false),
    sampleWeight,
    mask,
  };
}

const LOSS_OPTIONS = [
  "fromLogits", "axis", "shape", "labelSmoothing", "ignoreClass", "classWeights", "sampleWeight", "mask", "reduction",
];
const FOCAL_OPTIONS = [...LOSS_OPTIONS, "alpha", "gamma"];
const GRADIENT_OPTIONS = [...FOCAL_OPTIONS, "dy", "out"];

/** Rejects option names the function does not know, such as a misspelled `fromLogits`. */
export function checkOptionNames(options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (known.includes(key) || (options as Record<string, unknown>)[key] === undefined) continue;
    const close = known.find((name) => name.toLowerCase().startsWith(key.toLowerCase().slice(0, 4)));
    throw new TypeError(
      `options.${key} is not an option of this function${close ? `; did you mean ${close}?` : ""} ` +
        `Known options: ${known.join(", ")}.`,
    );
  }
}

/** Returns a copy of `data` when it is a view of the module's memory, else `data`. */
function ownCopy<T extends ArrayLike<number | bigint>>(data: T, memoryBuffer: ArrayBufferLike): T {
  if (ArrayBuffer.isView(data) && data.buffer === memoryBuffer) {
    return (data as unknown as { slice(): T }).slice();
  }
  return data;
}

/** Checks an `out` buffer: a Float32Array of `length` values outside the module's memory. */
export function checkOut(out: unknown, length: number, name: string, memoryBuffer: ArrayBufferLike): void {
  if (!(out instanceof Float32Array)) {
    throw new TypeError(`options.out is ${typeName(out)}, but it must be a Float32Array of length ${length}.`);
  }
  if (out.length !== length) {
    throw new RangeError(
      `options.out has length ${out.length}, but it must have length ${length}, the size of ${name}.`,
    );
  }
  if (out.buffer === memoryBuffer) {
    throw new TypeError(
      "options.out is a view of wasm-xent's own memory, which a call can detach by growing it; " +
        "pass an ordinary Float32Array.",
    );
  }
}

function valueAt(values: PerLoss | null, row: number, fallback: number): number {
  return values === null ? fallback : values.data[Math.floor(row / values.repeat)];
}

/** Class ids as numbers, with a check of their shape against the losses. */
function readLabels(labels: unknown, layout: RowLayout): ArrayLike<number | bigint> {
  const { data, shape } = flattenLabels(labels, "labels");
  const count = layout.rows;
  if (shape !== undefined && shape.length > 1) {
    const lossShape = layout.lossShape;
    const same = (s: number[]) => s.length === lossShape.length && s.every((n, i) => n === lossShape[i]);
    const trailingOne = shape[shape.length - 1] === 1 && same(shape.slice(0, -1));
    if (!same(shape) && !trailingOne) {
      throw new RangeError(
        `labels has shape ${formatShape(shape)}, but yPred has shape ${formatShape(layout.shape)}, ` +
          `which needs one label per row: shape ${formatShape(lossShape)} or ${formatShape([...lossShape, 1])}.`,
      );
    }
  } else if (data.length !== count) {
    throw new RangeError(
      `labels has length ${data.length}, but yPred has shape ${formatShape(layout.shape)}, ` +
        `which has ${count} rows; pass one label per row.`,
    );
  }
  return data;
}

function labelError(
  labels: ArrayLike<number | bigint>,
  row: number,
  classes: number,
  ignoreClass: number | undefined,
): RangeError {
  const allowed = ignoreClass === undefined ? "" : ` or the ignoreClass ${ignoreClass}`;
  return new RangeError(
    `labels[${row}] is ${String(labels[row])}, but labels must be integers in [0, ${classes})${allowed}; ` +
      `mask the row or fix the label.`,
  );
}

/**
 * Checks every class id of an included row, before any kernel runs, and
 * returns the count and weight sum of the included rows.
 */
function checkLabels(
  labels: ArrayLike<number | bigint>,
  plan: Plan,
  ignoreClass: number | undefined,
): { count: number; weightSum: number } {
  const { classes, rows } = plan.layout;
  if (labels instanceof Int32Array && plan.mask === null && plan.sampleWeight === null &&
      plan.classWeights === null && (ignoreClass === undefined || ignoreClass < 0)) {
    // The common case in a tight loop: every row counts with weight 1.
    let ignored = 0;
    for (let row = 0; row < rows; row++) {
      const label = labels[row];
      if (label >= 0 && label < classes) continue;
      if (label === ignoreClass) {
        ignored++;
        continue;
      }
      throw labelError(labels, row, classes, ignoreClass);
    }
    return { count: rows - ignored, weightSum: rows - ignored };
  }
  let count = 0;
  let weightSum = 0;
  for (let row = 0; row < rows; row++) {
    if (plan.mask !== null && !valueAt(plan.mask, row, 1)) continue;
    const raw = labels[row];
    if (typeof raw !== "number" && typeof raw !== "bigint") {
      throw new TypeError(`labels[${row}] is ${describe(raw)}, but labels must be integer numbers.`);
    }
    const label = Number(raw);
    if (label === ignoreClass) continue;
    if (!Number.isInteger(label) || label < 0 || label >= classes) {
      throw labelError(labels, row, classes, ignoreClass);
    }
    count++;
    const classWeight = plan.classWeights === null ? 1 : plan.classWeights[label];
    weightSum += valueAt(plan.sampleWeight, row, 1) * classWeight;
  }
  return { count, weightSum };
}

/** Returns the count and weight sum of included rows for target rows (reads the targets). */
function targetTotals(targets: ArrayLike<number>, plan: Plan, needWeights: boolean): { count: number; weightSum: number } {
  const { classes, inner, outer, rows } = plan.layout;
  let count = rows;
  if (plan.mask !== null) {
    count = 0;
    for (let row = 0; row < rows; row++) if (valueAt(plan.mask, row, 1)) count++;
  }
  if (!needWeights) return { count, weightSum: 0 };
  let weightSum = 0;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const row = o * inner + i;
      if (plan.mask !== null && !valueAt(plan.mask, row, 1)) continue;
      let rowWeight = 0;
      for (let c = 0; c < classes; c++) {
        const w = plan.classWeights === null ? 1 : plan.classWeights[c];
        rowWeight += w * targets[(o * classes + c) * inner + i];
      }
      weightSum += valueAt(plan.sampleWeight, row, 1) * rowWeight;
    }
  }
  return { count, weightSum };
}

function multiIndex(flat: number, shape: number[]): string {
  const index: number[] = new Array(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    index[d] = flat % shape[d];
    flat = Math.floor(flat / shape[d]);
  }
  return `[${index.join(", ")}]`;
}

function invalidProbability(pred: Flat, layout: RowLayout, row: number): RangeError {
  const { classes, inner } = layout;
  const o = Math.floor(row / inner);
  const i = row % inner;
  for (let c = 0; c < classes; c++) {
    const at = (o * classes + c) * inner + i;
    const value = pred.data[at];
    if (!(value >= 0 && value < Infinity)) {
      return new RangeError(
        `yPred${multiIndex(at, layout.shape)} is ${value}, but probabilities must be finite and >= 0; ` +
          `pass fromLogits: true if yPred holds logits.`,
      );
    }
  }
  return new RangeError(`yPred row ${row} contains an invalid probability.`);
}

function readDy(dy: GradientOptions["dy"], plan: Plan): { scalar: number; perLoss: PerLoss | null } {
  if (dy === undefined) return { scalar: 1, perLoss: null };
  if (typeof dy === "number") {
    if (!Number.isFinite(dy)) throw new RangeError(`options.dy is ${dy}, but it must be a finite number.`);
    return { scalar: dy, perLoss: null };
  }
  if (plan.reduction !== "none") {
    throw new TypeError(
      `options.dy is an array, but reduction '${plan.reduction}' gives one number; pass dy as a number ` +
        `or use reduction 'none'.`,
    );
  }
  const values = perLoss(dy, plan.layout.lossShape, "options.dy");
  checkFinite(values, "options.dy");
  return { scalar: 1, perLoss: values };
}

/**
 * Computes a crossentropy for every row, reduces it, and with `gradient`
 * also computes the gradient with respect to `yPred`.
 */
export function computeCrossentropy(
  kind: LossKind,
  targetsInput: unknown,
  predInput: unknown,
  options: FocalOptions = {},
  gradient?: GradientOptions,
): Computed {
  if (options === null || typeof options !== "object") {
    throw new TypeError(`options must be an object, but it is ${typeName(options)}.`);
  }
  let knownOptions = kind.focal ? FOCAL_OPTIONS : LOSS_OPTIONS;
  if (gradient) knownOptions = GRADIENT_OPTIONS;
  checkOptionNames(options, knownOptions);
  const pred = flattenFloats(predInput, options.shape, "yPred");
  if (pred.nested && pred.shape.length === 1 && pred.shape[0] === 0) pred.shape = [0, 1];
  const memoryBuffer = defaultInstance().memory.buffer;
  if (pred.data.buffer === memoryBuffer && !defaultInstance().holds(pred.data)) pred.data = pred.data.slice();
  const plan = makePlan(kind, pred, options);
  // Views of the module's memory other than the input buffer are copied,
  // because this call may grow the memory and detach them.
  if (plan.sampleWeight) plan.sampleWeight.data = ownCopy(plan.sampleWeight.data, memoryBuffer);
  if (plan.mask) plan.mask.data = ownCopy(plan.mask.data, memoryBuffer);
  const { layout } = plan;
  const { classes, rows } = layout;
  const withGradient = gradient !== undefined;

  // Every check that can fail runs before the first kernel call.
  let targets: Flat | null = null;
  let labels: ArrayLike<number | bigint> | null = null;
  let included: { count: number; weightSum: number };
  if (kind.dense) {
    // A flat typed yTrue next to a nested yPred takes yPred's shape.
    let targetShape = options.shape;
    if (pred.nested) targetShape = ArrayBuffer.isView(targetsInput) ? pred.shape : undefined;
    targets = flattenFloats(targetsInput, targetShape, "yTrue");
    if (targets.data.length !== pred.data.length || product(targets.shape) !== product(pred.shape) ||
        targets.shape.length !== pred.shape.length || targets.shape.some((n, i) => n !== pred.shape[i])) {
      throw new RangeError(
        `yTrue has shape ${formatShape(targets.shape)}, but yPred has shape ${formatShape(pred.shape)}; ` +
          `pass one target value per prediction.`,
      );
    }
    const needWeights = withGradient && plan.reduction === "mean_with_sample_weight";
    included = targetTotals(targets.data, plan, needWeights);
  } else {
    labels = ownCopy(readLabels(targetsInput, layout), memoryBuffer);
    included = checkLabels(labels, plan, options.ignoreClass);
  }
  const dy = withGradient ? readDy(gradient.dy, plan) : { scalar: 1, perLoss: null };
  if (dy.perLoss) dy.perLoss.data = ownCopy(dy.perLoss.data, memoryBuffer);
  if (targets) targets.data = ownCopy(targets.data, memoryBuffer);
  let gradOut: Float32Array | null = null;
  if (withGradient) {
    if (gradient.out !== undefined) {
      checkOut(gradient.out, pred.data.length, "yPred", memoryBuffer);
      gradOut = gradient.out;
    } else {
      gradOut = new Float32Array(pred.data.length);
    }
  }

  // The divisor of the reduction fixes each row's gradient scale up front.
  let divisor = 1;
  if (plan.reduction === "mean" || plan.reduction === "sum_over_batch_size") divisor = included.count;
  if (plan.reduction === "mean_with_sample_weight") divisor = included.weightSum;
  const gradScale = divisor === 0 ? 0 : dy.scalar / divisor;

  arena ??= new Arena(defaultInstance());
  arena.reset();
  const instance = arena.instance;
  // yPred from inputBuffer() is read where it is, with no copy.
  const inPlace = layout.inner === 1 && instance.holds(pred.data);
  const inPlaceStart = pred.data.byteOffset;
  const inPlaceLength = pred.data.length;
  const capacity = chunkCapacity(layout);
  const rowCapacity = Math.max(1, Math.floor(capacity / classes));
  const xPtr = arena.take(capacity * 4);
  const targetsPtr = kind.dense ? arena.take(capacity * 4) : 0;
  const gradPtr = withGradient ? arena.take(capacity * 4) : 0;
  const stagingPtr = layout.inner > 1 ? arena.take(capacity * 4) : 0;
  const labelsPtr = arena.take(rowCapacity * 4);
  const weightsPtr = plan.sampleWeight ? arena.take(rowCapacity * 4) : 0;
  const scalesPtr = withGradient ? arena.take(rowCapacity * 4) : 0;
  const lossesPtr = arena.take(rowCapacity * 4);
  const classWeightsPtr = arena.take(classes * 4);
  const alphaPtr = arena.take(classes * 4);
  const totalsPtr = arena.take(32);
  const scratchPtr = arena.take(SCRATCH_BYTES);
  arena.commit();
  if (inPlace) {
    // A grow in commit() detaches the caller's view; the values are intact.
    pred.data = new Float32Array(instance.memory.buffer, inPlaceStart, inPlaceLength);
  }

  const f32 = instance.f32;
  if (plan.classWeights) f32.set(plan.classWeights, classWeightsPtr >>> 2);
  else f32.fill(1, classWeightsPtr >>> 2, (classWeightsPtr >>> 2) + classes);
  if (plan.alpha) f32.set(plan.alpha, alphaPtr >>> 2);
  else f32.fill(1, alphaPtr >>> 2, (alphaPtr >>> 2) + classes);
  instance.f64.fill(0, totalsPtr >>> 3, (totalsPtr >>> 3) + 4);

  const variant = (`${kind.focal ? "focal" : "crossentropy"}${kind.dense ? "Dense" : "Sparse"}` +
    `${plan.fromLogits ? "Logits" : "Probabilities"}${withGradient ? "WithGradient" : ""}`) as CrossentropyVariant;
  const kernel = instance.kernels[variant];
  const losses = plan.reduction === "none" ? new Float32Array(rows) : null;
  const ignoreClass = options.ignoreClass;

  // Writes each row's label (-1 for rows that are skipped), sample weight
  // and gradient scale for the rows of a chunk.
  // Class ids in an Int32Array with nothing masked are copied as they are:
  // negative ids are the ignoreClass (checked above) and the kernel skips them.
  const copyLabels = labels instanceof Int32Array && plan.mask === null &&
    (ignoreClass === undefined || ignoreClass < 0);
  const fillRows = (chunk: Chunk): void => {
    const i32 = instance.i32;
    const f32Rows = instance.f32;
    if (copyLabels && !weightsPtr && !scalesPtr) {
      i32.set((labels as Int32Array).subarray(chunk.start, chunk.start + chunk.rows), labelsPtr >>> 2);
      return;
    }
    if (labels === null && plan.mask === null && !weightsPtr && !scalesPtr) {
      i32.fill(0, labelsPtr >>> 2, (labelsPtr >>> 2) + chunk.rows);
      return;
    }
    for (let r = 0; r < chunk.rows; r++) {
      const row = chunk.start + r;
      const kept = plan.mask === null || valueAt(plan.mask, row, 1) !== 0;
      let label = 0;
      if (labels !== null) {
        const value = Number(labels[row]);
        label = !kept || value === ignoreClass ? -1 : value;
      } else if (!kept) {
        label = -1;
      }
      i32[(labelsPtr >>> 2) + r] = label;
      const weight = valueAt(plan.sampleWeight, row, 1);
      if (weightsPtr) f32Rows[(weightsPtr >>> 2) + r] = weight;
      if (scalesPtr) f32Rows[(scalesPtr >>> 2) + r] = weight * gradScale * valueAt(dy.perLoss, row, 1);
    }
  };

  const chunks = splitChunks(layout);
  const loadInput = (chunk: Chunk): number => {
    if (inPlace) return inPlaceStart + chunk.start * classes * 4;
    loadChunk(instance, layout, chunk, pred.data as Float32Array, xPtr, stagingPtr);
    return xPtr;
  };
  if (!plan.fromLogits && chunks.length > 1) {
    // The kernel checks probabilities as it goes, which would leave earlier
    // chunks' results written when a later chunk fails. One cheap pass
    // checks every chunk first.
    for (const chunk of chunks) {
      const inputPtr = loadInput(chunk);
      fillRows(chunk);
      if (instance.kernels.checkProbabilities(totalsPtr, inputPtr, labelsPtr, chunk.rows, classes) !== 0) {
        throw invalidProbability(pred, layout, chunk.start + instance.f64[(totalsPtr >>> 3) + 3]);
      }
    }
  }

  for (const chunk of chunks) {
    const inputPtr = loadInput(chunk);
    if (targets) loadChunk(instance, layout, chunk, targets.data as Float32Array, targetsPtr, stagingPtr);
    fillRows(chunk);
    const status = kernel(
      lossesPtr, gradPtr, totalsPtr, inputPtr, targetsPtr, labelsPtr, weightsPtr, scalesPtr,
      classWeightsPtr, alphaPtr, chunk.rows, classes, plan.smoothing, plan.gamma, scratchPtr,
    );
    if (status !== 0) {
      const row = chunk.start + instance.f64[(totalsPtr >>> 3) + 3];
      if (status === STATUS_INVALID_PROBABILITY) throw invalidProbability(pred, layout, row);
      if (status === STATUS_LABEL_OUT_OF_RANGE) {
        throw new RangeError(`labels[${row}] is out of range [0, ${classes}).`);
      }
      throw new Error(`wasm-xent kernel failed with status ${status} at row ${row}.`);
    }
    if (losses) {
      losses.set(instance.f32.subarray(lossesPtr >>> 2, (lossesPtr >>> 2) + chunk.rows), chunk.start);
    }
    if (gradOut) storeChunk(instance, layout, chunk, gradPtr, stagingPtr, gradOut);
  }

  const f64 = instance.f64;
  const totals = {
    sum: f64[totalsPtr >>> 3],
    count: f64[(totalsPtr >>> 3) + 1],
    weightSum: f64[(totalsPtr >>> 3) + 2],
  };
  let loss: LossResult;
  switch (plan.reduction) {
    case "none":
      loss = pred.nested ? unflatten(losses!, layout.lossShape) : losses!;
      break;
    case "totals":
      loss = totals;
      break;
    case "sum":
      loss = totals.sum;
      break;
    case "mean_with_sample_weight":
      loss = totals.weightSum === 0 ? 0 : totals.sum / totals.weightSum;
      break;
    default:
      loss = totals.count === 0 ? 0 : totals.sum / totals.count;
  }
  if (!gradOut) return { loss };
  return { loss, grad: pred.nested && gradient?.out === undefined ? unflatten(gradOut, pred.shape) : gradOut };
}
