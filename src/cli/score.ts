// The `xent score` computation: read inputs in chunks of rows, compute the
// losses with the library, write them and accumulate the summary.

import { rmSync } from "node:fs";

import {
  categoricalCrossentropy,
  categoricalFocalCrossentropy,
  reduceTotals,
  sparseCategoricalCrossentropy,
  sparseCategoricalFocalCrossentropy,
} from "../index.js";
import type { FocalOptions, LossTotals, Reduction } from "../types.js";
import { UsageError, type ScoreArgs } from "./args.js";
import {
  createArrayWriter,
  openRowSource,
  readDenseArray,
  type RowSource,
} from "./array-files.js";
import {
  quantileOfSorted,
  TopLosses,
  unravelIndex,
  type TopLoss,
} from "./summary.js";
import type { ArrayWriter } from "./text-formats.js";

/** Everything `xent score` reports. */
export interface ScoreResult {
  predPath: string;
  predShape: number[];
  labelsPath: string;
  labelsShape: number[];
  /** `'sparse'` for class ids, `'categorical'` for target rows. */
  labelKind: "sparse" | "categorical";
  loss: "crossentropy" | "focal crossentropy";
  /** Class axis of pred, resolved to a non-negative index. */
  classAxis: number;
  lossShape: number[];
  /** Number of losses, included or not. */
  lossCount: number;
  /** Number of included losses: not masked, not ignored. */
  count: number;
  /** Sum of the included weighted losses, accumulated in float64. */
  sum: number;
  /** sum / count, 0 when no row is included. */
  mean: number;
  /** Sum of the included rows' sample weight times class weight. */
  weightSum: number;
  /** sum / weightSum, 0 when weightSum is 0. */
  weightedMean: number;
  /** Order statistics of the included losses; NaN when none is included. */
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  reduction: Reduction;
  /** The batch loss reduced with `reduction`; absent for `'none'`. */
  reduced?: number | LossTotals;
  top: TopLoss[];
  /** Wall-clock time of the computation, in seconds. */
  seconds: number;
}

/** Callbacks for progress reporting, in rows of pred's first axis. */
export interface ScoreHooks {
  onStart?(totalRows: number): void;
  onProgress?(rowsDone: number): void;
  onFinish?(): void;
}

/** A sample-weight or mask file and its alignment with the losses. */
interface BroadcastInput {
  source: RowSource;
  /** The single value of a scalar input, else undefined. */
  scalar?: number;
  /** Consecutive losses that share one entry: the product of the loss axes the input lacks. */
  spread: number;
}

/**
 * Runs `xent score`.
 *
 * @throws UsageError for options that do not apply to the given files.
 * @throws Error naming the files for unreadable input or mismatched shapes.
 */
export function score(args: ScoreArgs, hooks: ScoreHooks = {}): ScoreResult {
  const started = performance.now();
  const sources: RowSource[] = [];
  let writer: ArrayWriter | undefined;
  try {
    const pred = openRowSource(args.pred);
    sources.push(pred);
    const labels = openRowSource(args.labels);
    sources.push(labels);

    const predShape = [...pred.shape];
    if (predShape.length === 0) {
      throw new Error(
        `--pred ${args.pred} is a 0-d array; it needs at least a class axis.`,
      );
    }
    const classAxis = args.axis < 0 ? predShape.length + args.axis : args.axis;
    if (classAxis < 0 || classAxis >= predShape.length) {
      throw new UsageError(
        `--axis ${args.axis} is outside the ${predShape.length} axes of --pred ${args.pred} (shape ${formatShape(predShape)}).`,
      );
    }
    const lossShape = predShape.filter((_, axis) => axis !== classAxis);
    const numClasses = predShape[classAxis];
    const labelKind = classifyLabels(args, labels.shape, predShape, lossShape);
    if (labelKind === "categorical" && args.ignoreClass !== undefined) {
      throw new UsageError(
        `--ignore-class applies to class-id labels, but --labels ${args.labels} has the shape of --pred ${formatShape(predShape)} (target rows).`,
      );
    }

    const sampleWeight = args.sampleWeight
      ? openBroadcast(
          "--sample-weight",
          args.sampleWeight,
          args,
          lossShape,
          predShape,
          sources,
        )
      : undefined;
    const mask = args.mask
      ? openBroadcast("--mask", args.mask, args, lossShape, predShape, sources)
      : undefined;
    const classWeights = loadClassWeights(args, numClasses, predShape);
    if (Array.isArray(args.alpha) && args.alpha.length !== numClasses) {
      throw new Error(
        `--alpha has ${args.alpha.length} values, but --pred ${args.pred} has ${numClasses} classes (shape ${formatShape(predShape)}, class axis ${classAxis}).`,
      );
    }

    // Chunks split the first axis of pred, which every input shares, unless
    // it is the class axis: then the whole batch is one chunk.
    // NOTE: with the class axis first, memory grows with the input size.
    const streamed = classAxis !== 0;
    const totalRows = streamed ? predShape[0] : 1;
    const rowsPerChunk = streamed
      ? Math.max(
          1,
          Math.min(
            totalRows,
            Math.floor(args.chunkBytes / (4 * pred.rowLength)),
          ),
        )
      : 1;
    const lossCount = lossShape.reduce((a, b) => a * b, 1);
    const lossesPerRow = streamed
      ? lossCount / Math.max(1, totalRows)
      : lossCount;
    const innerSize = predShape.slice(classAxis + 1).reduce((a, b) => a * b, 1);

    const predBuffer = new Float32Array(
      chunkLength(pred, rowsPerChunk, streamed),
    );
    const labelBuffer =
      labelKind === "categorical"
        ? new Float32Array(chunkLength(labels, rowsPerChunk, streamed))
        : new Float64Array(chunkLength(labels, rowsPerChunk, streamed));
    const weightBuffer =
      sampleWeight && allocateBroadcast(sampleWeight, rowsPerChunk, streamed);
    const maskBuffer = mask && allocateBroadcast(mask, rowsPerChunk, streamed);

    if (args.out) {
      writer = createArrayWriter(args.out, lossShape);
    }
    const included = new Float32Array(lossCount);
    const top = new TopLosses(args.top);
    let count = 0;
    let sum = 0;
    let weightSum = 0;
    let min = Infinity;
    let max = -Infinity;

    hooks.onStart?.(totalRows);
    for (let start = 0; start < totalRows; start += rowsPerChunk) {
      const rows = Math.min(rowsPerChunk, totalRows - start);
      const predChunk = readChunk(pred, start, rows, predBuffer, streamed);
      const labelChunk = readChunk(labels, start, rows, labelBuffer, streamed);
      const weightChunk =
        weightBuffer &&
        readChunk(sampleWeight!.source, start, rows, weightBuffer, streamed);
      const maskChunk =
        maskBuffer &&
        readChunk(mask!.source, start, rows, maskBuffer, streamed);
      const chunkShape = streamed ? [rows, ...predShape.slice(1)] : predShape;

      const options: FocalOptions = {
        fromLogits: args.fromLogits,
        axis: args.axis,
        shape: chunkShape,
        labelSmoothing: args.labelSmoothing,
        reduction: "none",
      };
      if (args.ignoreClass !== undefined)
        options.ignoreClass = args.ignoreClass;
      if (classWeights) options.classWeights = classWeights;
      if (sampleWeight)
        options.sampleWeight = sampleWeight.scalar ?? weightChunk!;
      if (mask) options.mask = maskChunk!;
      if (args.focalGamma !== undefined) {
        options.gamma = args.focalGamma;
        if (args.alpha !== undefined) options.alpha = args.alpha;
      }

      let losses: Float32Array;
      try {
        losses = computeLosses(
          labelKind,
          args.focalGamma !== undefined,
          labelChunk,
          predChunk,
          options,
        );
      } catch (error) {
        throw new Error(
          `rows [${start}, ${start + rows}) of --pred ${args.pred} and --labels ${args.labels}: ${(error as Error).message}`,
        );
      }
      writer?.append(losses);

      // Accumulate the statistics of the included losses.
      const firstLoss = start * lossesPerRow;
      for (let j = 0; j < losses.length; j++) {
        if (mask && broadcastValue(mask, maskChunk!, j) === 0) continue;
        const label = labelKind === "sparse" ? labelChunk[j] : NaN;
        if (args.ignoreClass !== undefined && label === args.ignoreClass)
          continue;

        const loss = losses[j];
        included[count++] = loss;
        sum += loss;
        if (loss < min) min = loss;
        if (loss > max) max = loss;

        const outer = Math.floor(j / innerSize);
        const inner = j - outer * innerSize;
        const rowStart = outer * numClasses * innerSize + inner;
        let weight = sampleWeight
          ? broadcastValue(sampleWeight, weightChunk!, j)
          : 1;
        if (classWeights) {
          weight *=
            labelKind === "sparse"
              ? classWeights[label]
              : dotStrided(classWeights, labelChunk, rowStart, innerSize);
        }
        weightSum += weight;

        if (top.accepts(loss)) {
          top.add({
            index: firstLoss + j,
            position: unravelIndex(firstLoss + j, lossShape),
            label:
              labelKind === "sparse"
                ? label
                : argmaxStrided(labelChunk, rowStart, numClasses, innerSize),
            predicted: argmaxStrided(
              predChunk,
              rowStart,
              numClasses,
              innerSize,
            ),
            loss,
          });
        }
      }
      hooks.onProgress?.(start + rows);
    }
    writer?.close();
    writer = undefined;

    const sorted = included.subarray(0, count).sort();
    const totals: LossTotals = { sum, count, weightSum };
    let reduced: number | LossTotals | undefined;
    if (args.reduction === "totals") {
      reduced = totals;
    } else if (args.reduction !== "none") {
      reduced = reduceTotals(totals, args.reduction);
    }
    return {
      predPath: args.pred,
      predShape,
      labelsPath: args.labels,
      labelsShape: [...labels.shape],
      labelKind,
      loss:
        args.focalGamma !== undefined ? "focal crossentropy" : "crossentropy",
      classAxis,
      lossShape,
      lossCount,
      count,
      sum,
      mean: count > 0 ? sum / count : 0,
      weightSum,
      weightedMean: weightSum !== 0 ? sum / weightSum : 0,
      min: count > 0 ? min : NaN,
      p50: quantileOfSorted(sorted, 0.5),
      p90: quantileOfSorted(sorted, 0.9),
      p99: quantileOfSorted(sorted, 0.99),
      max: count > 0 ? max : NaN,
      reduction: args.reduction,
      reduced,
      top: top.sorted(),
      seconds: (performance.now() - started) / 1000,
    };
  } catch (error) {
    if (writer) {
      writer.abort();
      rmSync(args.out!, { force: true });
    }
    throw error;
  } finally {
    hooks.onFinish?.();
    for (const source of sources) source.close();
  }
}

/** Formats a shape as `[16, 10]`. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((n, i) => n === b[i]);
}

/**
 * Decides between target rows (the shape of pred) and class ids (the loss
 * shape, optionally with a trailing axis of size 1).
 */
function classifyLabels(
  args: ScoreArgs,
  labelsShape: readonly number[],
  predShape: readonly number[],
  lossShape: readonly number[],
): "sparse" | "categorical" {
  if (sameShape(labelsShape, predShape)) {
    return "categorical";
  }
  if (
    sameShape(labelsShape, lossShape) ||
    sameShape(labelsShape, [...lossShape, 1])
  ) {
    return "sparse";
  }
  throw new Error(
    `shape mismatch: --labels ${args.labels} has shape ${formatShape(labelsShape)}, but ` +
      `--pred ${args.pred} has shape ${formatShape(predShape)}. Labels must be class ids ` +
      `of shape ${formatShape(lossShape)} (also ${formatShape([...lossShape, 1])}) or ` +
      `target rows of shape ${formatShape(predShape)}.`,
  );
}

/**
 * Opens a sample-weight or mask file and checks that its shape is a single
 * value or a leading part of the loss shape (a trailing axis of size 1 allowed).
 */
function openBroadcast(
  flag: string,
  path: string,
  args: ScoreArgs,
  lossShape: readonly number[],
  predShape: readonly number[],
  sources: RowSource[],
): BroadcastInput {
  const source = openRowSource(path);
  sources.push(source);
  const shape = source.shape;
  const size = shape.reduce((a, b) => a * b, 1);
  if (size === 1) {
    const value = new Float64Array(1);
    source.readRows(0, 1, value);
    return { source, scalar: value[0], spread: Infinity };
  }
  const isLeading = (candidate: readonly number[]) =>
    candidate.length >= 1 &&
    candidate.length <= lossShape.length &&
    candidate.every((n, i) => n === lossShape[i]);
  let rank = -1;
  if (isLeading(shape)) {
    rank = shape.length;
  } else if (
    shape.length >= 2 &&
    shape[shape.length - 1] === 1 &&
    isLeading(shape.slice(0, -1))
  ) {
    rank = shape.length - 1;
  }
  if (rank < 0) {
    throw new Error(
      `shape mismatch: ${flag} ${path} has shape ${formatShape(shape)}, but --pred ${args.pred} ` +
        `has shape ${formatShape(predShape)}, whose losses have shape ${formatShape(lossShape)}. ` +
        `Give one value per row ${formatShape(lossShape.slice(0, 1))}, per loss ` +
        `${formatShape(lossShape)}, or a single value.`,
    );
  }
  const spread = lossShape.slice(rank).reduce((a, b) => a * b, 1);
  return { source, spread };
}

function loadClassWeights(
  args: ScoreArgs,
  numClasses: number,
  predShape: readonly number[],
): Float64Array | undefined {
  if (args.classWeights === undefined) {
    return undefined;
  }
  const weights =
    typeof args.classWeights === "string"
      ? readDenseArray(args.classWeights).data
      : Float64Array.from(args.classWeights);
  if (weights.length !== numClasses) {
    const where =
      typeof args.classWeights === "string" ? ` ${args.classWeights}` : "";
    throw new Error(
      `--class-weights${where} has ${weights.length} values, but --pred ${args.pred} ` +
        `has ${numClasses} classes (shape ${formatShape(predShape)}).`,
    );
  }
  return weights;
}

function chunkLength(
  source: RowSource,
  rowsPerChunk: number,
  streamed: boolean,
): number {
  return streamed
    ? rowsPerChunk * source.rowLength
    : source.rowCount * source.rowLength;
}

function readChunk<T extends Float32Array | Float64Array>(
  source: RowSource,
  start: number,
  rows: number,
  buffer: T,
  streamed: boolean,
): T {
  if (streamed) {
    source.readRows(start, rows, buffer);
    return buffer.subarray(0, rows * source.rowLength) as T;
  }
  source.readRows(0, source.rowCount, buffer);
  return buffer;
}

function allocateBroadcast(
  input: BroadcastInput,
  rowsPerChunk: number,
  streamed: boolean,
): Float64Array | undefined {
  if (input.scalar !== undefined) {
    return undefined;
  }
  return new Float64Array(chunkLength(input.source, rowsPerChunk, streamed));
}

function broadcastValue(
  input: BroadcastInput,
  chunk: Float64Array | undefined,
  lossIndex: number,
): number {
  if (input.scalar !== undefined) {
    return input.scalar;
  }
  return chunk![Math.floor(lossIndex / input.spread)];
}

function computeLosses(
  labelKind: "sparse" | "categorical",
  focal: boolean,
  labels: Float32Array | Float64Array,
  pred: Float32Array,
  options: FocalOptions,
): Float32Array {
  if (labelKind === "sparse") {
    return (
      focal
        ? sparseCategoricalFocalCrossentropy(labels, pred, options)
        : sparseCategoricalCrossentropy(labels, pred, options)
    ) as Float32Array;
  }
  return (
    focal
      ? categoricalFocalCrossentropy(labels, pred, options)
      : categoricalCrossentropy(labels, pred, options)
  ) as Float32Array;
}

/** Returns sum over c of weights[c] * values[start + c * stride]. */
function dotStrided(
  weights: Float64Array,
  values: ArrayLike<number>,
  start: number,
  stride: number,
): number {
  let total = 0;
  for (let c = 0; c < weights.length; c++) {
    total += weights[c] * values[start + c * stride];
  }
  return total;
}

/** Returns the class with the highest value (the first on ties; NaN is skipped). */
function argmaxStrided(
  values: ArrayLike<number>,
  start: number,
  numClasses: number,
  stride: number,
): number {
  let best = -1;
  let bestValue = -Infinity;
  for (let c = 0; c < numClasses; c++) {
    const value = values[start + c * stride];
    if (value > bestValue || (best < 0 && value === bestValue)) {
      best = c;
      bestValue = value;
    }
  }
  return best;
}
