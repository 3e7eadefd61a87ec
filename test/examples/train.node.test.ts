// A short run of the MNIST softmax-regression example: two epochs on a
// subset of the real digits from the `mnist` package.
import { beforeAll, describe, expect, it } from "vitest";

import {
  loadMnist,
  NUM_CLASSES,
  type Dataset,
} from "../../examples/mnist/data.js";
import {
  evaluate,
  SgdTrainer,
  SoftmaxRegression,
} from "../../examples/mnist/model.js";

const TRAIN_SIZE = 2000;
const TEST_SIZE = 500;

let train: Dataset;
let test: Dataset;

beforeAll(() => {
  ({ train, test } = loadMnist({
    trainSize: TRAIN_SIZE,
    testSize: TEST_SIZE,
    seed: 7,
  }));
});

describe("mnist data", () => {
  it("splits disjoint labelled sets", () => {
    expect(train.count).toBe(TRAIN_SIZE);
    expect(test.count).toBe(TEST_SIZE);
    expect(train.images.length).toBe(TRAIN_SIZE * 784);
    expect(test.labels.length).toBe(TEST_SIZE);
    for (const label of [...train.labels, ...test.labels]) {
      expect(label).toBeGreaterThanOrEqual(0);
      expect(label).toBeLessThan(NUM_CLASSES);
    }
    // No test image also occurs in the training set.
    const key = (images: Float32Array, row: number) =>
      images.subarray(row * 784, (row + 1) * 784).join(",");
    const trainKeys = new Set<string>();
    for (let row = 0; row < train.count; row++)
      trainKeys.add(key(train.images, row));
    let shared = 0;
    for (let row = 0; row < test.count; row++) {
      if (trainKeys.has(key(test.images, row))) shared++;
    }
    expect(shared).toBe(0);
  });

  it("repeats a split for a seed", () => {
    const again = loadMnist({ trainSize: 100, testSize: 10, seed: 7 });
    expect(Array.from(again.train.labels)).toEqual(
      Array.from(train.labels.subarray(0, 100)),
    );
    const other = loadMnist({ trainSize: 100, testSize: 10, seed: 8 });
    expect(Array.from(other.train.labels)).not.toEqual(
      Array.from(again.train.labels),
    );
  });

  it("rejects more digits than shipped", () => {
    expect(() => loadMnist({ trainSize: 9000, testSize: 2000 })).toThrow(
      RangeError,
    );
  });
});

describe("softmax regression training", () => {
  it("first step loss is log 10", () => {
    // Zero weights give uniform probabilities, so every row's loss is ln 10.
    const trainer = new SgdTrainer(new SoftmaxRegression(), train, { seed: 3 });
    const { loss } = trainer.step(0);
    expect(loss).toBeCloseTo(Math.log(NUM_CLASSES), 5);
  });

  it("lowers loss and beats chance", () => {
    const model = new SoftmaxRegression();
    const trainer = new SgdTrainer(model, train, { batchSize: 50, seed: 3 });
    const before = evaluate(
      model,
      test,
      new Float32Array(TEST_SIZE * NUM_CLASSES),
    );

    const firstEpochLoss = trainer.runEpoch();
    const secondEpochLoss = trainer.runEpoch();
    const after = evaluate(
      model,
      test,
      new Float32Array(TEST_SIZE * NUM_CLASSES),
    );

    expect(firstEpochLoss).toBeLessThan(Math.log(NUM_CLASSES));
    expect(secondEpochLoss).toBeLessThan(firstEpochLoss);
    expect(after.meanLoss).toBeLessThan(before.meanLoss);
    expect(after.meanLoss).toBeLessThan(0.6);
    // Chance is 10%, and this run reached 89% when the test was written.
    expect(after.accuracy).toBeGreaterThan(0.75);
  });

  it("step reuses its gradient buffer", () => {
    const model = new SoftmaxRegression();
    const { weights, bias } = model;
    const trainer = new SgdTrainer(model, train, { batchSize: 40, seed: 3 });
    const buffer = trainer.dLogits;
    expect(buffer.length).toBe(40 * NUM_CLASSES);
    for (let step = 0; step < trainer.stepsPerEpoch; step++) {
      const result = trainer.step(step * trainer.batchSize);
      expect(result.grad).toBe(buffer);
      expect(Number.isFinite(result.loss)).toBe(true);
    }
    expect(trainer.dLogits).toBe(buffer);
    expect(model.weights).toBe(weights);
    expect(model.bias).toBe(bias);
  });

  it("gradient rows sum to zero", () => {
    // Each row of d(mean loss)/d(logits) is (softmax - onehot) / batch.
    const trainer = new SgdTrainer(new SoftmaxRegression(), train, {
      batchSize: 25,
      seed: 3,
    });
    trainer.step(0);
    const { grad } = trainer.step(25);
    for (let row = 0; row < 25; row++) {
      let sum = 0;
      let negative = 0;
      for (let k = 0; k < NUM_CLASSES; k++) {
        sum += grad[row * NUM_CLASSES + k];
        if (grad[row * NUM_CLASSES + k] < 0) negative++;
      }
      expect(Math.abs(sum)).toBeLessThan(1e-6);
      expect(negative).toBe(1);
    }
  });

  it("repeats training for a seed", () => {
    const run = (seed: number) => {
      const model = new SoftmaxRegression();
      new SgdTrainer(model, train, { seed }).runEpoch();
      return model.weights;
    };
    expect(run(5)).toEqual(run(5));
    expect(run(5)).not.toEqual(run(6));
  });

  it("rejects a batch larger than the data", () => {
    expect(
      () =>
        new SgdTrainer(new SoftmaxRegression(), test, {
          batchSize: TEST_SIZE + 1,
        }),
    ).toThrow(RangeError);
  });
});
