// Messages between the page (main.ts) and its training worker (worker.ts).
import type { EpochSummary, PageResults } from "./experiment.js";

export interface StartMessage {
  type: "start";
  /** Absolute URL of the packed digits file. */
  digitsUrl: string;
  epochs: number;
  seed: number;
}

export type WorkerMessage =
  | {
      type: "loaded";
      /** Time to fetch and decode the digits, in milliseconds. */
      loadMs: number;
    }
  | {
      type: "started";
      trainCount: number;
      testCount: number;
      stepsPerEpoch: number;
    }
  | { type: "step"; step: number; loss: number }
  | { type: "epoch"; summary: EpochSummary }
  | {
      type: "done";
      results: PageResults;
      /** Per-sample test losses (reduction 'none'). */
      testLosses: Float32Array;
      /** Label of each test digit. */
      testLabels: Int32Array;
      /** Predicted digit of each test digit. */
      testPredictions: Int32Array;
      /** Pixels of the hardest test digits, 784 per digit, in `results.hardest` order. */
      hardestImages: Float32Array;
      hardestLabels: number[];
      hardestPredictions: number[];
    }
  | { type: "error"; message: string };
