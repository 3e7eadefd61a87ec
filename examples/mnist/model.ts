// Multinomial logistic regression (softmax regression) on 28x28 digits,
// trained with minibatch SGD. The matrix products are plain TypeScript loops,
// and the loss and its gradient with respect to the logits come from wasm-xent.
import {
  sparseCategoricalCrossentropy,
  sparseCategoricalCrossentropyWithGrad,
} from "../../src/index.js";
import {
  createRandom,
  shuffleInPlace,
  IMAGE_SIZE,
  NUM_CLASSES,
  type Dataset,
} from "./data.js";

/** logits = x W + b, with W of shape [784, 10] and b of shape [10]. */
export class SoftmaxRegression {
  /** Row-major [784, 10]: `weights[i * 10 + k]` links pixel i to class k. Starts at 0. */
  readonly weights = new Float32Array(IMAGE_SIZE * NUM_CLASSES);
  /** One bias per class. Starts at 0. */
  readonly bias = new Float32Array(NUM_CLASSES);

  /**
   * Writes the logits of the first `count` rows of `images` ([count, 784])
   * into `out` ([count, 10]). Allocates nothing.
   */
  computeLogits(images: Float32Array, count: number, out: Float32Array): void {
    const { weights, bias } = this;
    for (let row = 0; row < count; row++) {
      const outRow = row * NUM_CLASSES;
      const imageRow = row * IMAGE_SIZE;
      for (let k = 0; k < NUM_CLASSES; k++) out[outRow + k] = bias[k];
      for (let i = 0; i < IMAGE_SIZE; i++) {
        const pixel = images[imageRow + i];
        // About 80% of MNIST pixels are 0, and skipping them is the main speed-up.
        if (pixel === 0) continue;
        const weightRow = i * NUM_CLASSES;
        for (let k = 0; k < NUM_CLASSES; k++) {
          out[outRow + k] += pixel * weights[weightRow + k];
        }
      }
    }
  }
}

/** Returns the index of the largest logit of `row` in a [rows, 10] buffer. */
export function predictedClass(logits: Float32Array, row: number): number {
  let best = 0;
  for (let k = 1; k < NUM_CLASSES; k++) {
    if (logits[row * NUM_CLASSES + k] > logits[row * NUM_CLASSES + best])
      best = k;
  }
  return best;
}

/** Returns the fraction of the first `count` rows whose largest logit is at the label. */
export function accuracy(
  logits: Float32Array,
  labels: Int32Array,
  count: number,
): number {
  let correct = 0;
  for (let row = 0; row < count; row++) {
    if (predictedClass(logits, row) === labels[row]) correct++;
  }
  return count === 0 ? 0 : correct / count;
}

export interface SgdOptions {
  /** Rows per step. @default 100 */
  batchSize?: number;
  /** Step size of plain SGD. @default 0.5 */
  learningRate?: number;
  /** L2 penalty `l2 / 2 * |W|^2` on the weights (not the bias). @default 1e-4 */
  l2?: number;
  /** Seed of the per-epoch shuffle of the training rows. @default 1 */
  seed?: number;
}

/** Result of one SGD step, as returned by `sparseCategoricalCrossentropyWithGrad`. */
export interface StepResult {
  /** Mean crossentropy of the batch before the update. */
  loss: number;
  /** d(mean loss)/d(logits), [batchSize, 10]: always the trainer's `dLogits` buffer. */
  grad: Float32Array;
}

/**
 * Trains a {@link SoftmaxRegression} with minibatch SGD. Every buffer is
 * allocated in the constructor, so a step allocates no typed array.
 * Each epoch visits the training rows in a new seeded order and skips the
 * last `count % batchSize` rows of that order.
 */
export class SgdTrainer {
  readonly batchSize: number;
  readonly learningRate: number;
  readonly l2: number;
  /** Gradient of the mean batch loss w.r.t. the logits, [batchSize, 10], reused by every step. */
  readonly dLogits: Float32Array;

  private readonly random: () => number;
  private readonly order: Int32Array;
  private readonly batchImages: Float32Array;
  private readonly batchLabels: Int32Array;
  private readonly logits: Float32Array;
  private readonly dWeights: Float32Array;
  private readonly dBias: Float32Array;
  private readonly lossOptions: {
    fromLogits: true;
    reduction: "mean";
    shape: readonly [number, number];
    out: Float32Array;
  };

  constructor(
    readonly model: SoftmaxRegression,
    readonly data: Dataset,
    options: SgdOptions = {},
  ) {
    const {
      batchSize = 100,
      learningRate = 0.5,
      l2 = 1e-4,
      seed = 1,
    } = options;
    if (
      !Number.isInteger(batchSize) ||
      batchSize < 1 ||
      batchSize > data.count
    ) {
      throw new RangeError(
        `batchSize is ${batchSize}, but it must be an integer in [1, ${data.count}], ` +
          "the number of training rows.",
      );
    }
    this.batchSize = batchSize;
    this.learningRate = learningRate;
    this.l2 = l2;
    this.random = createRandom(seed);
    this.order = new Int32Array(data.count);
    for (let i = 0; i < data.count; i++) this.order[i] = i;
    this.batchImages = new Float32Array(batchSize * IMAGE_SIZE);
    this.batchLabels = new Int32Array(batchSize);
    this.logits = new Float32Array(batchSize * NUM_CLASSES);
    this.dLogits = new Float32Array(batchSize * NUM_CLASSES);
    this.dWeights = new Float32Array(IMAGE_SIZE * NUM_CLASSES);
    this.dBias = new Float32Array(NUM_CLASSES);
    // One options object for every step, so the call allocates no arguments either.
    this.lossOptions = {
      fromLogits: true,
      reduction: "mean",
      shape: [batchSize, NUM_CLASSES],
      out: this.dLogits,
    };
  }

  /** Number of steps in one epoch. */
  get stepsPerEpoch(): number {
    return Math.floor(this.data.count / this.batchSize);
  }

  /**
   * Runs one epoch and returns the mean of its batch losses (each measured
   * before that batch's update).
   */
  runEpoch(): number {
    shuffleInPlace(this.order, this.random);
    let lossSum = 0;
    for (let step = 0; step < this.stepsPerEpoch; step++) {
      lossSum += this.step(step * this.batchSize).loss;
    }
    return lossSum / this.stepsPerEpoch;
  }

  /** Trains on the rows `order[first .. first + batchSize)` of the current epoch order. */
  step(first: number): StepResult {
    const { batchSize, batchImages, batchLabels, logits, dLogits } = this;
    const { images, labels } = this.data;

    for (let row = 0; row < batchSize; row++) {
      const source = this.order[first + row];
      for (let i = 0; i < IMAGE_SIZE; i++) {
        batchImages[row * IMAGE_SIZE + i] = images[source * IMAGE_SIZE + i];
      }
      batchLabels[row] = labels[source];
    }

    this.model.computeLogits(batchImages, batchSize, logits);
    const result = sparseCategoricalCrossentropyWithGrad(
      batchLabels,
      logits,
      this.lossOptions,
    );
    this.backward();
    this.update();
    return result as StepResult;
  }

  // dW = x^T dLogits and db = column sums of dLogits, over the batch.
  private backward(): void {
    const { batchSize, batchImages, dLogits, dWeights, dBias } = this;
    dWeights.fill(0);
    dBias.fill(0);
    for (let row = 0; row < batchSize; row++) {
      const gradRow = row * NUM_CLASSES;
      for (let k = 0; k < NUM_CLASSES; k++) dBias[k] += dLogits[gradRow + k];
      for (let i = 0; i < IMAGE_SIZE; i++) {
        const pixel = batchImages[row * IMAGE_SIZE + i];
        if (pixel === 0) continue;
        const weightRow = i * NUM_CLASSES;
        for (let k = 0; k < NUM_CLASSES; k++) {
          dWeights[weightRow + k] += pixel * dLogits[gradRow + k];
        }
      }
    }
  }

  // W -= lr * (dW + l2 * W), b -= lr * db.
  private update(): void {
    const { learningRate, l2, dWeights, dBias } = this;
    const { weights, bias } = this.model;
    for (let j = 0; j < weights.length; j++) {
      weights[j] -= learningRate * (dWeights[j] + l2 * weights[j]);
    }
    for (let k = 0; k < NUM_CLASSES; k++) bias[k] -= learningRate * dBias[k];
  }
}

/** Accuracy and mean crossentropy of a model on a dataset. */
export interface Evaluation {
  accuracy: number;
  meanLoss: number;
}

/**
 * Scores `data` with `model`, writing its logits into `logits` ([count, 10]),
 * which the caller allocates once and may read afterwards.
 */
export function evaluate(
  model: SoftmaxRegression,
  data: Dataset,
  logits: Float32Array,
): Evaluation {
  model.computeLogits(data.images, data.count, logits);
  const meanLoss = sparseCategoricalCrossentropy(data.labels, logits, {
    fromLogits: true,
    reduction: "mean",
    shape: [data.count, NUM_CLASSES],
  }) as number;
  return { accuracy: accuracy(logits, data.labels, data.count), meanLoss };
}
