// Trains softmax regression on real MNIST digits, then inspects the model
// through its point-wise test losses: their distribution, the hardest digits,
// weighted and masked means, and .npy files for the command-line scorer.
//
//   npm run demo
import { mkdirSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

import { writeNpy } from "../../src/cli/npy.js";
import { softmax, sparseCategoricalCrossentropy } from "../../src/index.js";
import {
  IMAGE_SIDE,
  IMAGE_SIZE,
  loadMnist,
  NUM_CLASSES,
  type Dataset,
} from "./data.js";
import { predictedClass } from "./model.js";
import { trainAndReport } from "./train.js";

const OUT_DIR = fileURLToPath(new URL("./out/", import.meta.url));
/** Rows whose largest softmax probability is below this count as unsure. */
const CONFIDENCE_THRESHOLD = 0.9;
/** Dark to bright, one character per tenth of the pixel range. */
const PIXEL_RAMP = " .:-=+*#%@";

function heading(title: string): void {
  console.log(`\n== ${title} ==`);
}

/**
 * Returns the value at fraction `q` of an ascending array, interpolating
 * linearly between neighbours as `numpy.percentile` and `xent score` do.
 */
function quantile(sorted: Float32Array, q: number): number {
  const position = q * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(sorted.length - 1, below + 1);
  return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
}

function printLossDistribution(losses: Float32Array): void {
  const sorted = Float32Array.from(losses).sort();
  let sum = 0;
  for (const loss of losses) sum += loss;
  console.log(
    `count ${losses.length}  mean ${(sum / losses.length).toFixed(4)}  ` +
      `p50 ${quantile(sorted, 0.5).toFixed(4)}  p90 ${quantile(sorted, 0.9).toFixed(4)}  ` +
      `p99 ${quantile(sorted, 0.99).toFixed(4)}  max ${sorted[sorted.length - 1].toFixed(4)}`,
  );

  // Losses span many orders of magnitude, so the bins grow geometrically.
  const edges = [0, 0.001, 0.01, 0.1, 0.5, 1, 2, 4, 8, Infinity];
  const counts = new Array<number>(edges.length - 1).fill(0);
  for (const loss of losses) {
    let bin = 0;
    while (loss >= edges[bin + 1]) bin++;
    counts[bin]++;
  }
  const maxCount = Math.max(...counts);
  const barWidth = 50;
  for (let bin = 0; bin < counts.length; bin++) {
    const upper = edges[bin + 1] === Infinity ? "inf" : edges[bin + 1];
    const label = `[${edges[bin]}, ${upper})`.padEnd(14);
    const bar = "#".repeat(Math.round((barWidth * counts[bin]) / maxCount));
    const share = ((100 * counts[bin]) / losses.length).toFixed(1).padStart(5);
    console.log(
      `${label} ${String(counts[bin]).padStart(5)} ${share}%  ${bar}`.trimEnd(),
    );
  }
}

/** Returns 14 lines of 14 characters, each the mean of a 2x2 block of pixels. */
function renderDigit(images: Float32Array, row: number): string[] {
  const half = IMAGE_SIDE / 2;
  const lines: string[] = [];
  for (let y = 0; y < half; y++) {
    let line = "";
    for (let x = 0; x < half; x++) {
      let sum = 0;
      for (const [dy, dx] of [
        [0, 0],
        [0, 1],
        [1, 0],
        [1, 1],
      ]) {
        sum +=
          images[row * IMAGE_SIZE + (2 * y + dy) * IMAGE_SIDE + 2 * x + dx];
      }
      const level = Math.min(
        PIXEL_RAMP.length - 1,
        Math.floor((sum / 4) * PIXEL_RAMP.length),
      );
      line += PIXEL_RAMP[level];
    }
    lines.push(line);
  }
  return lines;
}

function printHardestDigits(
  test: Dataset,
  logits: Float32Array,
  losses: Float32Array,
  howMany: number,
): void {
  const byLoss = Array.from(losses.keys()).sort(
    (a, b) => losses[b] - losses[a],
  );
  const hardest = byLoss.slice(0, howMany);
  const columnWidth = 20;
  const perLine = 5;
  for (let first = 0; first < hardest.length; first += perLine) {
    if (first > 0) console.log();
    const group = hardest.slice(first, first + perLine);
    const blocks = group.map((row) => [
      `label ${test.labels[row]}, guess ${predictedClass(logits, row)}`,
      `loss ${losses[row].toFixed(3)}, #${row}`,
      ...renderDigit(test.images, row).map((line) => `|${line}|`),
    ]);
    for (let line = 0; line < blocks[0].length; line++) {
      const text = blocks.map((block) => block[line].padEnd(columnWidth));
      console.log(text.join("").trimEnd());
    }
  }
}

/**
 * Returns one weight per class, the inverse of its share of `labels`, scaled
 * so that the mean weight over the rows of `labels` is 1.
 */
function inverseFrequencyWeights(labels: Int32Array): Float64Array {
  const counts = new Float64Array(NUM_CLASSES);
  for (const label of labels) counts[label]++;
  const weights = new Float64Array(NUM_CLASSES);
  for (let k = 0; k < NUM_CLASSES; k++) {
    weights[k] = labels.length / (NUM_CLASSES * counts[k]);
  }
  return weights;
}

function main(): void {
  const started = performance.now();
  const { train, test } = loadMnist();

  heading("Training");
  const trained = trainAndReport(train, test);
  const { testLogits: logits } = trained;
  console.log(
    `test accuracy ${(100 * trained.testAccuracy).toFixed(2)}%, ` +
      `${trained.msPerEpoch.toFixed(1)} ms per epoch`,
  );

  const shape = [test.count, NUM_CLASSES] as const;
  const losses = sparseCategoricalCrossentropy(test.labels, logits, {
    fromLogits: true,
    shape,
  }) as Float32Array;

  heading(`Per-sample test losses (reduction 'none')`);
  printLossDistribution(losses);

  heading("The ten hardest test digits");
  printHardestDigits(test, logits, losses, 10);

  heading("Mean test loss per class (mask)");
  console.log("class  count  accuracy  mean loss");
  for (let digit = 0; digit < NUM_CLASSES; digit++) {
    const mask = test.labels.map((label) => (label === digit ? 1 : 0));
    const meanLoss = sparseCategoricalCrossentropy(test.labels, logits, {
      fromLogits: true,
      shape,
      mask,
      reduction: "mean",
    }) as number;
    let count = 0;
    let correct = 0;
    for (let row = 0; row < test.count; row++) {
      if (!mask[row]) continue;
      count++;
      if (predictedClass(logits, row) === digit) correct++;
    }
    console.log(
      `${String(digit).padStart(5)}  ${String(count).padStart(5)}  ` +
        `${((100 * correct) / count).toFixed(1).padStart(7)}%  ${meanLoss.toFixed(4).padStart(9)}`,
    );
  }

  heading("Reductions of the same losses");
  const mean = sparseCategoricalCrossentropy(test.labels, logits, {
    fromLogits: true,
    shape,
    reduction: "mean",
  }) as number;
  console.log(`plain mean: ${mean.toFixed(4)}`);

  const classWeights = inverseFrequencyWeights(train.labels);
  const weightedMean = sparseCategoricalCrossentropy(test.labels, logits, {
    fromLogits: true,
    shape,
    classWeights,
    reduction: "mean_with_sample_weight",
  }) as number;
  console.log(
    `class-weighted mean, weights = inverse training frequency ` +
      `(${Math.min(...classWeights).toFixed(3)} to ${Math.max(...classWeights).toFixed(3)}): ` +
      `${weightedMean.toFixed(4)}`,
  );

  const probabilities = softmax(logits, { shape }) as Float32Array;
  const confident = new Uint8Array(test.count);
  let confidentCount = 0;
  for (let row = 0; row < test.count; row++) {
    let top = 0;
    for (let k = 0; k < NUM_CLASSES; k++) {
      top = Math.max(top, probabilities[row * NUM_CLASSES + k]);
    }
    confident[row] = top >= CONFIDENCE_THRESHOLD ? 1 : 0;
    confidentCount += confident[row];
  }
  const confidentMean = sparseCategoricalCrossentropy(test.labels, logits, {
    fromLogits: true,
    shape,
    mask: confident,
    reduction: "mean",
  }) as number;
  const unsureMean = sparseCategoricalCrossentropy(test.labels, logits, {
    fromLogits: true,
    shape,
    mask: confident.map((included) => 1 - included),
    reduction: "mean",
  }) as number;
  console.log(
    `masked mean, ${confidentCount} rows with top probability >= ` +
      `${CONFIDENCE_THRESHOLD}: ${confidentMean.toFixed(4)}`,
  );
  console.log(
    `masked mean, the other ${test.count - confidentCount} rows: ` +
      `${unsureMean.toFixed(4)}`,
  );

  heading("Files for the command-line scorer");
  mkdirSync(OUT_DIR, { recursive: true });
  const logitsPath = join(OUT_DIR, "test-logits.npy");
  const labelsPath = join(OUT_DIR, "test-labels.npy");
  writeNpy(logitsPath, logits, shape);
  writeNpy(labelsPath, test.labels, [test.count]);
  const displayPath = (path: string) => relative(process.cwd(), path) || path;
  console.log(
    `wrote ${displayPath(logitsPath)} (float32 [${shape.join(", ")}])`,
  );
  console.log(`wrote ${displayPath(labelsPath)} (int32 [${test.count}])`);
  console.log("score them with:");
  console.log(
    `  npx xent score --pred ${displayPath(logitsPath)} --labels ${displayPath(labelsPath)} --from-logits --reduction mean`,
  );
  console.log(
    `\ndone in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}

main();
