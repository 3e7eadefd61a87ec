// Trains the model off the main thread, so the page keeps drawing while
// SGD runs, and posts every step's loss to the page.
import { IMAGE_SIZE } from "../mnist/data.js";
import { decodeDigits } from "./digits-format.js";
import { runExperiment, summarize } from "./experiment.js";
import { provideDigits } from "./mnist-browser.js";
import type { StartMessage, WorkerMessage } from "./protocol.js";

function send(message: WorkerMessage, transfer: Transferable[] = []): void {
  self.postMessage(message, { transfer });
}

async function start({ digitsUrl, epochs, seed }: StartMessage): Promise<void> {
  const loadStart = performance.now();
  const response = await fetch(digitsUrl);
  if (!response.ok) {
    throw new Error(
      `Fetching the digits from ${digitsUrl} failed with HTTP ${response.status}.`,
    );
  }
  provideDigits(decodeDigits(await response.arrayBuffer()));
  send({ type: "loaded", loadMs: performance.now() - loadStart });

  const result = runExperiment(
    { epochs, seed },
    {
      onStart: (info) => send({ type: "started", ...info }),
      onStep: (step, loss) => send({ type: "step", step, loss }),
      onEpoch: (summary) => send({ type: "epoch", summary }),
    },
  );

  const { test, hardest, testLosses, predictions } = result;
  const hardestImages = new Float32Array(hardest.length * IMAGE_SIZE);
  hardest.forEach((row, i) =>
    hardestImages.set(
      test.images.subarray(row * IMAGE_SIZE, (row + 1) * IMAGE_SIZE),
      i * IMAGE_SIZE,
    ),
  );
  send(
    {
      type: "done",
      results: summarize(result),
      testLosses,
      testLabels: test.labels,
      testPredictions: predictions,
      hardestImages,
      hardestLabels: hardest.map((row) => test.labels[row]),
      hardestPredictions: hardest.map((row) => predictions[row]),
    },
    [testLosses.buffer, predictions.buffer, hardestImages.buffer],
  );
}

self.onmessage = (event: MessageEvent<StartMessage>) => {
  start(event.data).catch((error: unknown) =>
    send({
      type: "error",
      message: error instanceof Error ? error.message : String(error),
    }),
  );
};
