// The page: starts the training worker, draws its progress, and shows the
// per-sample test losses once training ends. When done it publishes its
// numbers as `window.__results`, in <script id="results">, and as
// <body data-status="done">, for the page test.
import {
  drawDigit,
  drawHistogram,
  drawLossCurve,
  type LossCurve,
} from "./charts.js";
import type { EpochSummary, PageResults } from "./experiment.js";
import type { StartMessage, WorkerMessage } from "./protocol.js";

declare global {
  interface Window {
    __results?: PageResults;
  }
}

type DoneMessage = Extract<WorkerMessage, { type: "done" }>;

const MAX_EPOCHS = 100;

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`The page has no element with id "${id}".`);
  return found as T;
}

function setStatus(
  status: "loading" | "training" | "done" | "error",
  text: string,
): void {
  document.body.dataset.status = status;
  element("status").textContent = text;
}

/**
 * Reads a positive integer URL parameter, such as `?epochs=3`.
 *
 * @throws RangeError when the parameter is present but not an integer in [1, max].
 */
function integerParameter(name: string, fallback: number, max: number): number {
  const text = new URLSearchParams(location.search).get(name);
  if (text === null) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new RangeError(
      `The URL parameter ${name} is "${text}", but it must be an integer from 1 to ${max}.`,
    );
  }
  return value;
}

const percent = (fraction: number) => `${(100 * fraction).toFixed(2)}%`;

function addEpochRow(summary: EpochSummary): void {
  const row = element<HTMLTableSectionElement>("epochs").insertRow();
  for (const text of [
    String(summary.epoch),
    summary.trainLoss.toFixed(4),
    summary.testLoss.toFixed(4),
    percent(summary.testAccuracy),
    summary.ms.toFixed(0),
  ]) {
    row.insertCell().textContent = text;
  }
}

/** Returns the value at fraction `q` of an ascending array, interpolating linearly. */
function quantile(sorted: Float32Array, q: number): number {
  const position = q * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(sorted.length - 1, below + 1);
  return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
}

function showLosses(message: DoneMessage): void {
  const { results, testLosses, testLabels, testPredictions } = message;
  const edges = results.histogramEdges;
  const correct = new Array<number>(edges.length).fill(0);
  const wrong = new Array<number>(edges.length).fill(0);
  for (let row = 0; row < testLosses.length; row++) {
    let bin = 0;
    while (bin < edges.length - 1 && testLosses[row] >= edges[bin + 1]) bin++;
    if (testPredictions[row] === testLabels[row]) correct[bin]++;
    else wrong[bin]++;
  }
  drawHistogram(element("histogram"), {
    edges,
    correct,
    wrong,
    mean: results.testLoss,
  });

  // How much of the total loss the worst tenth of the digits carries.
  const sorted = Float32Array.from(testLosses).sort();
  const tenth = Math.ceil(sorted.length / 10);
  let total = 0;
  let worstTenth = 0;
  for (let i = 0; i < sorted.length; i++) {
    total += sorted[i];
    if (i >= sorted.length - tenth) worstTenth += sorted[i];
  }
  const wrongCount = wrong.reduce((sum, count) => sum + count, 0);
  element("histogram-caption").textContent =
    `median ${quantile(sorted, 0.5).toFixed(4)}, 90th percentile ${quantile(sorted, 0.9).toFixed(4)}, ` +
    `max ${sorted[sorted.length - 1].toFixed(2)}. The ${tenth} digits with the largest loss ` +
    `carry ${percent(worstTenth / total)} of the total, and ${wrongCount} digits are misclassified.`;

  const classRows = element<HTMLTableSectionElement>("classes");
  const maxClassLoss = Math.max(
    ...results.classSummaries.map((c) => c.meanLoss),
  );
  for (const summary of results.classSummaries) {
    const row = classRows.insertRow();
    for (const text of [
      String(summary.digit),
      String(summary.count),
      percent(summary.accuracy),
      summary.meanLoss.toFixed(4),
    ]) {
      row.insertCell().textContent = text;
    }
    const bar = document.createElement("span");
    bar.style.width = `${(100 * summary.meanLoss) / maxClassLoss}%`;
    const cell = row.insertCell();
    cell.className = "bar";
    cell.append(bar);
  }

  const grid = element("hardest");
  grid.replaceChildren();
  results.hardest.forEach((row, i) => {
    const figure = document.createElement("figure");
    const canvas = document.createElement("canvas");
    drawDigit(canvas, message.hardestImages.subarray(i * 784, (i + 1) * 784));
    const caption = document.createElement("figcaption");
    const loss = results.hardestLosses[i];
    const label = message.hardestLabels[i];
    caption.innerHTML =
      `<b>${label}</b> read as <b>${message.hardestPredictions[i]}</b><br>` +
      `loss ${loss.toFixed(2)}<br>` +
      `p(${label}) = ${Math.exp(-loss).toExponential(1)}<br>` +
      `<span class="row">test #${row}</span>`;
    figure.append(canvas, caption);
    grid.append(figure);
  });
}

function run(): void {
  const epochs = integerParameter("epochs", 15, MAX_EPOCHS);
  const seed = integerParameter("seed", 1, 2 ** 31 - 1);
  element("settings").textContent = `${epochs} epochs, seed ${seed}`;

  const curve: LossCurve = {
    epochs,
    stepsPerEpoch: 1,
    stepLosses: [],
    trainLosses: [],
    testLosses: [],
  };
  // Steps arrive faster than frames, so draw at most once per frame.
  let drawPending = false;
  const drawSoon = () => {
    if (drawPending) return;
    drawPending = true;
    requestAnimationFrame(() => {
      drawPending = false;
      drawLossCurve(element("loss-curve"), curve);
    });
  };
  drawSoon();

  const worker = new Worker(new URL("./worker.ts", import.meta.url), {
    type: "module",
  });
  worker.onmessage = (event: MessageEvent<WorkerMessage>) => {
    const message = event.data;
    switch (message.type) {
      case "loaded":
        setStatus(
          "training",
          `Loaded the digits in ${message.loadMs.toFixed(0)} ms. Training…`,
        );
        break;
      case "started":
        curve.stepsPerEpoch = message.stepsPerEpoch;
        element("counts").textContent =
          `${message.trainCount} training and ${message.testCount} test digits, ` +
          `${message.stepsPerEpoch} steps per epoch`;
        break;
      case "step":
        curve.stepLosses.push(message.loss);
        drawSoon();
        break;
      case "epoch":
        curve.trainLosses.push(message.summary.trainLoss);
        curve.testLosses.push(message.summary.testLoss);
        addEpochRow(message.summary);
        setStatus(
          "training",
          `Epoch ${message.summary.epoch} of ${epochs}: test accuracy ${percent(message.summary.testAccuracy)}`,
        );
        drawSoon();
        break;
      case "done": {
        showLosses(message);
        const { results } = message;
        const msPerEpoch =
          results.epochLog.reduce((sum, epoch) => sum + epoch.ms, 0) /
          results.epochs;
        setStatus(
          "done",
          `Done: test accuracy ${percent(results.testAccuracy)}, mean test loss ` +
            `${results.testLoss.toFixed(4)}, ${msPerEpoch.toFixed(0)} ms per epoch.`,
        );
        element("results").textContent = JSON.stringify(results);
        window.__results = results;
        worker.terminate();
        break;
      }
      case "error":
        setStatus("error", `Training failed: ${message.message}`);
        worker.terminate();
        break;
    }
  };
  worker.onerror = (event) =>
    setStatus("error", `The training worker failed: ${event.message}`);

  const start: StartMessage = {
    type: "start",
    digitsUrl: new URL("mnist-digits.bin", document.baseURI).href,
    epochs,
    seed,
  };
  worker.postMessage(start);
}

try {
  run();
} catch (error) {
  setStatus("error", error instanceof Error ? error.message : String(error));
}
