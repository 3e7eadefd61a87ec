// The page's computation, with no DOM: train softmax regression on the
// seeded MNIST split, then score each test digit with reduction 'none'.
// The page runs this in a Web Worker, and test/browser-page runs it in Node
// to check that the page's numbers match.
import { sparseCategoricalCrossentropy } from "../../src/index.js";
import { loadMnist, NUM_CLASSES, type Dataset } from "../mnist/data.js";
import {
  evaluate,
  predictedClass,
  SgdTrainer,
  SoftmaxRegression,
  type SgdOptions,
  type StepResult,
} from "../mnist/model.js";

/** Number of hardest test digits the page draws. */
export const HARDEST_COUNT = 16;

export interface ExperimentOptions {
  /** Passes over the training set. @default 15 */
  epochs?: number;
  /** Seed of the train/test split and of the per-epoch shuffle. @default 1 */
  seed?: number;
}

/** Losses and accuracy after one epoch. */
export interface EpochSummary {
  epoch: number;
  /** Mean of the epoch's batch losses, each taken before its update. */
  trainLoss: number;
  /** Mean crossentropy over the test set after the epoch. */
  testLoss: number;
  /** Fraction of test digits whose largest logit is at the label. */
  testAccuracy: number;
  /** Training time of the epoch in milliseconds, evaluation excluded. */
  ms: number;
}

export interface ExperimentProgress {
  /** Called once the data is split, before the first step. */
  onStart?(info: {
    trainCount: number;
    testCount: number;
    stepsPerEpoch: number;
  }): void;
  /** Called after every SGD step with the step's index from 0 and its batch loss. */
  onStep?(step: number, loss: number): void;
  onEpoch?(summary: EpochSummary): void;
}

/** Test accuracy and mean test loss of the digits of one class. */
export interface ClassSummary {
  digit: number;
  /** Test digits with this label. */
  count: number;
  accuracy: number;
  /** Mean crossentropy of those digits, from a mask and reduction 'mean'. */
  meanLoss: number;
}

export interface ExperimentResult {
  epochs: number;
  seed: number;
  /** Number of SGD steps in one epoch. */
  stepsPerEpoch: number;
  train: Dataset;
  test: Dataset;
  epochLog: EpochSummary[];
  /** Per-sample crossentropy of each test digit (reduction 'none'). */
  testLosses: Float32Array;
  /** Predicted digit of each test digit. */
  predictions: Int32Array;
  /** The {@link HARDEST_COUNT} test rows with the largest loss, largest first. */
  hardest: number[];
  classSummaries: ClassSummary[];
}

/** Runs SGD steps as {@link SgdTrainer} does and reports each step's loss. */
class ReportingTrainer extends SgdTrainer {
  constructor(
    model: SoftmaxRegression,
    data: Dataset,
    options: SgdOptions,
    private readonly onStepLoss: (loss: number) => void,
  ) {
    super(model, data, options);
  }

  override step(first: number): StepResult {
    const result = super.step(first);
    this.onStepLoss(result.loss);
    return result;
  }
}

/**
 * Returns the rows of `losses` ordered by loss, largest first, ties by row.
 */
export function rowsByLoss(losses: Float32Array): number[] {
  return Array.from(losses.keys()).sort(
    (a, b) => losses[b] - losses[a] || a - b,
  );
}

/**
 * Trains on the split `loadMnist({ seed })` gives, with the trainer defaults
 * of examples/mnist (batch 100, learning rate 0.5, L2 1e-4), the same
 * settings `npm run demo` uses.
 */
export function runExperiment(
  options: ExperimentOptions = {},
  progress: ExperimentProgress = {},
): ExperimentResult {
  const { epochs = 15, seed = 1 } = options;
  const { train, test } = loadMnist({ seed });
  const model = new SoftmaxRegression();
  let step = 0;
  const trainer = new ReportingTrainer(model, train, { seed }, (loss) =>
    progress.onStep?.(step++, loss),
  );
  const testLogits = new Float32Array(test.count * NUM_CLASSES);
  progress.onStart?.({
    trainCount: train.count,
    testCount: test.count,
    stepsPerEpoch: trainer.stepsPerEpoch,
  });

  const epochLog: EpochSummary[] = [];
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const start = performance.now();
    const trainLoss = trainer.runEpoch();
    const ms = performance.now() - start;
    const { meanLoss, accuracy } = evaluate(model, test, testLogits);
    const summary = {
      epoch,
      trainLoss,
      testLoss: meanLoss,
      testAccuracy: accuracy,
      ms,
    };
    epochLog.push(summary);
    progress.onEpoch?.(summary);
  }

  // The point of the page: one loss per test digit, not one per batch.
  model.computeLogits(test.images, test.count, testLogits);
  const testLosses = sparseCategoricalCrossentropy(test.labels, testLogits, {
    fromLogits: true,
    shape: [test.count, NUM_CLASSES],
  }) as Float32Array;
  const predictions = new Int32Array(test.count);
  for (let row = 0; row < test.count; row++) {
    predictions[row] = predictedClass(testLogits, row);
  }

  // The same logits reduced over one class at a time.
  const classSummaries: ClassSummary[] = [];
  for (let digit = 0; digit < NUM_CLASSES; digit++) {
    const mask = test.labels.map((label) => (label === digit ? 1 : 0));
    const meanLoss = sparseCategoricalCrossentropy(test.labels, testLogits, {
      fromLogits: true,
      shape: [test.count, NUM_CLASSES],
      mask,
      reduction: "mean",
    }) as number;
    let count = 0;
    let correct = 0;
    for (let row = 0; row < test.count; row++) {
      if (!mask[row]) continue;
      count++;
      if (predictions[row] === digit) correct++;
    }
    classSummaries.push({
      digit,
      count,
      accuracy: count === 0 ? 0 : correct / count,
      meanLoss,
    });
  }

  return {
    epochs,
    seed,
    stepsPerEpoch: trainer.stepsPerEpoch,
    train,
    test,
    epochLog,
    testLosses,
    predictions,
    hardest: rowsByLoss(testLosses).slice(0, HARDEST_COUNT),
    classSummaries,
  };
}

/**
 * Returns the lower edges of the loss histogram's bins: 0, then 1e-4 to 100
 * in steps of 10^0.25, rounded to 3 significant digits. Bin i is
 * [edges[i], edges[i + 1]), and the last bin has no upper edge.
 */
export function histogramEdges(): number[] {
  const edges = [0];
  for (let exponent = -16; exponent <= 8; exponent++) {
    // Math.pow of Node 20 and of Chromium 156 differ in the last bit for
    // some of these powers, and the rounding makes the edges the same in both.
    edges.push(Number((10 ** (exponent / 4)).toPrecision(3)));
  }
  return edges;
}

/** Counts the losses in each bin of {@link histogramEdges}. */
export function histogramCounts(
  losses: Float32Array,
  edges: readonly number[],
): number[] {
  const counts = new Array<number>(edges.length).fill(0);
  for (const loss of losses) {
    let bin = 0;
    while (bin < edges.length - 1 && loss >= edges[bin + 1]) bin++;
    counts[bin]++;
  }
  return counts;
}

/** The numbers the page publishes when it finishes, and the page test compares. */
export interface PageResults {
  epochs: number;
  seed: number;
  trainCount: number;
  testCount: number;
  stepsPerEpoch: number;
  epochLog: EpochSummary[];
  /** Mean of the per-sample test losses. */
  testLoss: number;
  testAccuracy: number;
  hardest: number[];
  hardestLosses: number[];
  histogramEdges: number[];
  histogramCounts: number[];
  classSummaries: ClassSummary[];
}

/** Collects the numbers of `result` that the page publishes. */
export function summarize(result: ExperimentResult): PageResults {
  const { testLosses, predictions, test } = result;
  let lossSum = 0;
  let correct = 0;
  for (let row = 0; row < test.count; row++) {
    lossSum += testLosses[row];
    if (predictions[row] === test.labels[row]) correct++;
  }
  const edges = histogramEdges();
  return {
    epochs: result.epochs,
    seed: result.seed,
    trainCount: result.train.count,
    testCount: test.count,
    stepsPerEpoch: result.stepsPerEpoch,
    epochLog: result.epochLog,
    testLoss: lossSum / test.count,
    testAccuracy: correct / test.count,
    hardest: result.hardest,
    hardestLosses: result.hardest.map((row) => testLosses[row]),
    histogramEdges: edges,
    histogramCounts: histogramCounts(testLosses, edges),
    classSummaries: result.classSummaries,
  };
}
