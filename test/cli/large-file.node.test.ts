// Scores a .npy file of several hundred MiB in a child process and checks
// the result against a closed form and the child's peak memory against the
// file size. The rows repeat with a short period, so the expected sums are
// the sums over one period times the number of periods.

import {
  closeSync,
  mkdtempSync,
  openSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { afterAll, beforeAll, describe, expect, test } from "vitest";

import { formatNpyHeader } from "../../src/cli/npy-header.js";
import { readNpy, writeNpy } from "../../src/cli/npy.js";
import { runXent } from "./cli-helpers.js";

const fixtureDir = fileURLToPath(new URL("../fixtures/npy/", import.meta.url));

const CLASSES = 1000;
const PERIOD = 16;
const PERIODS_PER_BLOCK = 64;
const BLOCKS = 96;
const ROWS = PERIOD * PERIODS_PER_BLOCK * BLOCKS; // 98,304 rows, 375 MiB of float32

/** Logit of class c in a row of phase k, in [-5, 5], rounded to float32. */
function logit(k: number, c: number): number {
  return Math.fround((((c * 7 + k * 13) % 101) - 50) / 10);
}

function label(k: number): number {
  return (k * 61 + 5) % CLASSES;
}

function weight(k: number): number {
  return 1 + (k % 4) * 0.5;
}

/** Float64 crossentropy of the row of phase k: lse(z) - z[label]. */
function referenceLoss(k: number): number {
  let max = -Infinity;
  for (let c = 0; c < CLASSES; c++) max = Math.max(max, logit(k, c));
  let sumExp = 0;
  for (let c = 0; c < CLASSES; c++) sumExp += Math.exp(logit(k, c) - max);
  return max + Math.log(sumExp) - logit(k, label(k));
}

/** Returns the peak RSS in bytes that the command printed to stderr. */
function peakRss(stderr: string): number {
  const match = /peak RSS (\d+) KiB/.exec(stderr);
  if (!match) throw new Error(`no peak RSS in stderr: ${stderr}`);
  return Number(match[1]) * 1024;
}

const workDir = mkdtempSync(join(tmpdir(), "xent-large-test-"));
const predPath = join(workDir, "logits.npy");
const labelsPath = join(workDir, "labels.npy");
const weightsPath = join(workDir, "weights.npy");
const outPath = join(workDir, "losses.npy");

beforeAll(() => {
  // Write the logits block by block, so the test never holds the file.
  const block = new Float32Array(PERIOD * PERIODS_PER_BLOCK * CLASSES);
  for (let row = 0; row < PERIOD * PERIODS_PER_BLOCK; row++) {
    for (let c = 0; c < CLASSES; c++)
      block[row * CLASSES + c] = logit(row % PERIOD, c);
  }
  const blockBytes = new Uint8Array(block.buffer);
  const fd = openSync(predPath, "w");
  try {
    writeSync(fd, formatNpyHeader("<f4", false, [ROWS, CLASSES]));
    for (let i = 0; i < BLOCKS; i++) writeSync(fd, blockBytes);
  } finally {
    closeSync(fd);
  }
  writeNpy(
    labelsPath,
    Int32Array.from({ length: ROWS }, (_, r) => label(r % PERIOD)),
    [ROWS],
  );
  writeNpy(
    weightsPath,
    Float32Array.from({ length: ROWS }, (_, r) => weight(r % PERIOD)),
    [ROWS],
  );
}, 60_000);

afterAll(() => rmSync(workDir, { recursive: true, force: true }));

describe("xent on a large file", () => {
  test("streams in bounded memory", () => {
    const fileSize = statSync(predPath).size;
    expect(fileSize).toBeGreaterThan(350 * 2 ** 20);

    const started = performance.now();
    const run = runXent(
      [
        "score",
        "--pred",
        predPath,
        "--labels",
        labelsPath,
        "--sample-weight",
        weightsPath,
        "--from-logits",
        "--out",
        outPath,
        "--json",
        "--top",
        "3",
      ],
      { XENT_REPORT_PEAK_RSS: "1" },
    );
    const seconds = (performance.now() - started) / 1000;
    expect(run.status, run.stderr).toBe(0);

    // The same command on a 16-row file gives the memory of the process
    // itself (Node, tsx, the wasm module), which the chunks add to.
    const small = runXent(
      [
        "score",
        "--pred",
        join(fixtureDir, "logits-f4.npy"),
        "--labels",
        join(fixtureDir, "labels-i8.npy"),
        "--from-logits",
        "--json",
      ],
      { XENT_REPORT_PEAK_RSS: "1" },
    );
    const peakBytes = peakRss(run.stderr);
    const baselineBytes = peakRss(small.stderr);
    console.log(
      `large file: ${(fileSize / 2 ** 20).toFixed(0)} MiB, child peak RSS ` +
        `${(peakBytes / 2 ** 20).toFixed(1)} MiB (16-row file: ` +
        `${(baselineBytes / 2 ** 20).toFixed(1)} MiB), child run ${seconds.toFixed(1)} s`,
    );
    expect(peakBytes).toBeLessThan(fileSize / 3);
    // Chunks of 4 MiB with their copies stay far below 64 MiB.
    expect(peakBytes - baselineBytes).toBeLessThan(64 * 2 ** 20);

    // Closed form: every period contributes the same sums.
    const periods = ROWS / PERIOD;
    let periodSum = 0;
    let periodWeight = 0;
    let worst = -Infinity;
    for (let k = 0; k < PERIOD; k++) {
      periodSum += weight(k) * referenceLoss(k);
      periodWeight += weight(k);
      worst = Math.max(worst, weight(k) * referenceLoss(k));
    }
    const result = JSON.parse(run.stdout);
    expect(result.count).toBe(ROWS);
    expect(result.lossShape).toEqual([ROWS]);
    expect(Math.abs(result.sum / (periods * periodSum) - 1)).toBeLessThan(1e-6);
    expect(
      Math.abs(result.weightSum / (periods * periodWeight) - 1),
    ).toBeLessThan(1e-12);
    expect(
      Math.abs(result.weightedMean / (periodSum / periodWeight) - 1),
    ).toBeLessThan(1e-6);
    expect(Math.abs(result.max / worst - 1)).toBeLessThan(1e-5);
    expect(result.top).toHaveLength(3);

    const losses = readNpy(outPath).data as Float32Array;
    expect(losses.length).toBe(ROWS);
    for (let r = 0; r < ROWS; r += 997) {
      const want = weight(r % PERIOD) * referenceLoss(r % PERIOD);
      expect(Math.abs(losses[r] - want), `row ${r}`).toBeLessThanOrEqual(
        1e-5 * Math.max(1, want),
      );
    }
  }, 120_000);
});
