import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { afterAll, describe, expect, test } from "vitest";

import {
  categoricalCrossentropy,
  sparseCategoricalCrossentropy,
  sparseCategoricalFocalCrossentropy,
} from "../../src/index.js";
import { USAGE } from "../../src/cli/args.js";
import { readNpy, writeNpy } from "../../src/cli/npy.js";
import { runCli } from "../../src/cli/run.js";
import { readCsv, readJson } from "../../src/cli/text-formats.js";
import { runXent } from "./cli-helpers.js";

// Losses must match the float64 NumPy reference within 1e-5 * max(1, |ref|).
const RTOL = 1e-5;

const fixtureDir = fileURLToPath(new URL("../fixtures/npy/", import.meta.url));
const logitsPath = join(fixtureDir, "logits-f4.npy");
const labelsPath = join(fixtureDir, "labels-i8.npy");
const expected = JSON.parse(
  readFileSync(join(fixtureDir, "expected.json"), "utf8"),
);
const referenceLosses: number[] = expected["logits-f4.npy"].sparseLosses;

const logits = readNpy(logitsPath).data as Float32Array;
const labels = Array.from(readNpy(labelsPath).data as BigInt64Array, Number);
const [rows, classes] = [16, 10];

const workDir = mkdtempSync(join(tmpdir(), "xent-score-test-"));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** Runs the command in-process and returns its exit status and output. */
function xent(...argv: string[]) {
  let stdout = "";
  let stderr = "";
  const status = runCli(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) } as never,
  });
  return { status, stdout, stderr };
}

function summary(...argv: string[]) {
  const run = xent(...argv, "--json");
  expect(run.stderr).toBe("");
  expect(run.status).toBe(0);
  return JSON.parse(run.stdout);
}

function scoreLogits(...extra: string[]) {
  return [
    "score",
    "--pred",
    logitsPath,
    "--labels",
    labelsPath,
    "--from-logits",
    ...extra,
  ];
}

function tmp(name: string): string {
  return join(workDir, name);
}

describe("xent score", () => {
  test("losses match the library", () => {
    const out = tmp("losses.npy");
    summary(...scoreLogits("--out", out));
    const losses = readNpy(out);
    expect(losses.shape).toEqual([rows]);
    expect(losses.dtype).toBe("f4");
    const api = sparseCategoricalCrossentropy(labels, logits, {
      shape: [rows, classes],
      fromLogits: true,
    }) as Float32Array;
    expect(Array.from(losses.data as Float32Array)).toEqual(Array.from(api));
  });

  test("losses match NumPy reference", () => {
    const out = tmp("reference.npy");
    summary(...scoreLogits("--out", out));
    const losses = readNpy(out).data as Float32Array;
    referenceLosses.forEach((reference, i) => {
      expect(Math.abs(losses[i] - reference)).toBeLessThanOrEqual(
        RTOL * Math.max(1, Math.abs(reference)),
      );
    });
  });

  test("summary statistics", () => {
    const result = summary(...scoreLogits("--top", "3"));
    const sorted = [...referenceLosses].sort((a, b) => a - b);
    const sum = referenceLosses.reduce((a, b) => a + b, 0);
    expect(result.count).toBe(rows);
    expect(result.lossCount).toBe(rows);
    expect(result.labelKind).toBe("sparse");
    expect(result.sum).toBeCloseTo(sum, 4);
    expect(result.mean).toBeCloseTo(sum / rows, 5);
    expect(result.weightedMean).toBeCloseTo(sum / rows, 5);
    expect(result.min).toBeCloseTo(sorted[0], 5);
    expect(result.max).toBeCloseTo(sorted[rows - 1], 5);
    // numpy.percentile's linear method: rank q * (n - 1) = 7.5 for p50.
    expect(result.p50).toBeCloseTo((sorted[7] + sorted[8]) / 2, 5);
    expect(result.p90).toBeCloseTo(
      sorted[13] + 0.5 * (sorted[14] - sorted[13]),
      5,
    );
    expect(result.top).toHaveLength(3);
    const worst = referenceLosses.indexOf(sorted[rows - 1]);
    expect(result.top[0].index).toBe(worst);
    expect(result.top[0].label).toBe(labels[worst]);
    const row = Array.from(
      logits.subarray(worst * classes, (worst + 1) * classes),
    );
    expect(result.top[0].predicted).toBe(row.indexOf(Math.max(...row)));
  });

  test("chunk size leaves results unchanged", () => {
    const whole = tmp("whole.npy");
    const chunked = tmp("chunked.npy");
    const a = summary(...scoreLogits("--out", whole));
    // 0.0001 MiB is 104 bytes, so chunks of 2 rows of 40 bytes.
    const b = summary(
      ...scoreLogits("--out", chunked, "--chunk-size", "0.0001"),
    );
    expect(readNpy(chunked).data).toEqual(readNpy(whole).data);
    expect(b.sum).toBe(a.sum);
    expect(b.top).toEqual(a.top);
  });

  test("Fortran big-endian pred matches", () => {
    const fortranOut = tmp("fortran.npy");
    const cOut = tmp("c-order.npy");
    summary(...scoreLogits("--out", cOut));
    summary(
      "score",
      "--pred",
      join(fixtureDir, "logits-f8-be-f.npy"),
      "--labels",
      labelsPath,
      "--from-logits",
      "--out",
      fortranOut,
      "--chunk-size",
      "0.0001",
    );
    expect(readNpy(fortranOut).data).toEqual(readNpy(cOut).data);
  });

  test("one-hot labels match class ids", () => {
    const oneHot = labels.map((label) =>
      Array.from({ length: classes }, (_, c) => (c === label ? 1 : 0)),
    );
    const oneHotPath = tmp("one-hot.json");
    writeFileSync(oneHotPath, JSON.stringify(oneHot));
    const sparse = summary(...scoreLogits("--label-smoothing", "0.1"));
    const categorical = summary(
      "score",
      "--pred",
      logitsPath,
      "--labels",
      oneHotPath,
      "--from-logits",
      "--label-smoothing",
      "0.1",
    );
    expect(categorical.labelKind).toBe("categorical");
    expect(categorical.sum).toBeCloseTo(sparse.sum, 4);
    expect(
      categorical.top.map((entry: { label: number }) => entry.label),
    ).toEqual(sparse.top.map((entry: { label: number }) => entry.label));
  });

  test("mask and ignore-class exclude rows", () => {
    const maskPath = tmp("mask.csv");
    writeFileSync(
      maskPath,
      labels.map((_, i) => (i < 4 ? 0 : 1)).join("\n") + "\n",
    );
    const ignored = labels[10];
    const out = tmp("masked.csv");
    const result = summary(
      ...scoreLogits(
        "--mask",
        maskPath,
        "--ignore-class",
        String(ignored),
        "--out",
        out,
      ),
    );
    const keep = labels.map((label, i) => i >= 4 && label !== ignored);
    const keptLosses = referenceLosses.filter((_, i) => keep[i]);
    expect(result.count).toBe(keptLosses.length);
    expect(result.sum).toBeCloseTo(
      keptLosses.reduce((a, b) => a + b, 0),
      4,
    );
    const written = readCsv(out);
    expect(written.shape).toEqual([rows, 1]);
    written.data.forEach((loss, i) => {
      if (!keep[i]) expect(loss, `row ${i}`).toBe(0);
    });
  });

  test("weighted mean matches library", () => {
    const weights = labels.map((_, i) => 0.5 + (i % 3));
    const weightPath = tmp("weights.json");
    writeFileSync(weightPath, JSON.stringify(weights));
    const classWeights = Array.from({ length: classes }, (_, c) => 1 + c / 10);
    const result = summary(
      ...scoreLogits(
        "--sample-weight",
        weightPath,
        "--class-weights",
        classWeights.join(","),
        "--reduction",
        "mean_with_sample_weight",
      ),
    );
    const options = {
      shape: [rows, classes],
      fromLogits: true,
      sampleWeight: weights,
      classWeights,
    };
    const weightedMean = sparseCategoricalCrossentropy(labels, logits, {
      ...options,
      reduction: "mean_with_sample_weight",
    }) as number;
    const mean = sparseCategoricalCrossentropy(labels, logits, {
      ...options,
      reduction: "mean",
    }) as number;
    expect(result.weightedMean).toBeCloseTo(weightedMean, 5);
    expect(result.reduced).toBeCloseTo(weightedMean, 5);
    expect(result.mean).toBeCloseTo(mean, 5);
  });

  test("focal options reach the library", () => {
    const out = tmp("focal.npy");
    summary(
      ...scoreLogits("--focal-gamma", "1.5", "--alpha", "0.4", "--out", out),
    );
    const api = sparseCategoricalFocalCrossentropy(labels, logits, {
      shape: [rows, classes],
      fromLogits: true,
      gamma: 1.5,
      alpha: 0.4,
    }) as Float32Array;
    expect(Array.from(readNpy(out).data as Float32Array)).toEqual(
      Array.from(api),
    );
  });

  test("per-token losses with axis 1", () => {
    // pred [2, 4 classes, 3 tokens], channels first; labels [2, 3].
    const pred = Array.from({ length: 2 }, (_, b) =>
      Array.from({ length: 4 }, (_, c) =>
        Array.from({ length: 3 }, (_, t) => Math.sin(b * 12 + c * 3 + t)),
      ),
    );
    const tokenLabels = [
      [0, 3, 1],
      [2, 2, 0],
    ];
    const predPath = tmp("tokens.json");
    const labelPath = tmp("token-labels.json");
    writeFileSync(predPath, JSON.stringify(pred));
    writeFileSync(labelPath, JSON.stringify(tokenLabels));
    const out = tmp("token-losses.json");
    const result = summary(
      "score",
      "--pred",
      predPath,
      "--labels",
      labelPath,
      "--from-logits",
      "--axis",
      "1",
      "--out",
      out,
      "--top",
      "1",
    );
    const api = sparseCategoricalCrossentropy(tokenLabels, pred, {
      fromLogits: true,
      axis: 1,
    }) as number[][];
    expect(result.lossShape).toEqual([2, 3]);
    const written = readJson(out);
    expect(written.shape).toEqual([2, 3]);
    // The JSON contains the shortest decimal of each float32 loss.
    expect(Array.from(written.data, Math.fround)).toEqual(
      api.flat().map(Math.fround),
    );
    const flat = api.flat();
    const worst = flat.indexOf(Math.max(...flat));
    expect(result.top[0].position).toEqual([Math.floor(worst / 3), worst % 3]);
  });

  test("class axis first is one chunk", () => {
    // pred [classes, batch] with axis 0.
    const transposed = Array.from({ length: classes }, (_, c) =>
      labels.map((_, r) => logits[r * classes + c]),
    );
    const predPath = tmp("transposed.json");
    writeFileSync(predPath, JSON.stringify(transposed));
    const result = summary(
      "score",
      "--pred",
      predPath,
      "--labels",
      labelsPath,
      "--from-logits",
      "--axis",
      "0",
      "--chunk-size",
      "0.0001",
    );
    expect(result.sum).toBeCloseTo(
      referenceLosses.reduce((a, b) => a + b, 0),
      4,
    );
  });

  test("probabilities by default", () => {
    const probabilities = [
      [0.7, 0.2, 0.1],
      [0.1, 0.1, 0.8],
    ];
    const predPath = tmp("probabilities.csv");
    writeFileSync(
      predPath,
      probabilities.map((row) => row.join(",")).join("\n"),
    );
    const labelPath = tmp("probability-labels.csv");
    writeFileSync(labelPath, "0\n1\n");
    const result = summary("score", "--pred", predPath, "--labels", labelPath);
    const api = categoricalCrossentropy(
      [
        [1, 0, 0],
        [0, 1, 0],
      ],
      probabilities,
      { reduction: "sum" },
    ) as number;
    expect(result.sum).toBeCloseTo(api, 5);
    expect(result.sum).toBeCloseTo(-Math.log(0.7) - Math.log(0.1), 5);
  });

  test("text summary lists top rows", () => {
    const run = xent(...scoreLogits("--top", "2"));
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^included +16 of 16$/m);
    expect(run.stdout).toMatch(/^weighted mean +\d/m);
    expect(run.stdout).toContain("top 2 losses");
    expect(run.stdout).toMatch(/index +label +predicted +loss/);
  });
});

describe("xent errors", () => {
  test("shape mismatch names both files", () => {
    const badLabels = tmp("bad-labels.npy");
    writeNpy(badLabels, new Int32Array(15), [15]);
    const run = xent("score", "--pred", logitsPath, "--labels", badLabels);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`--labels ${badLabels} has shape [15]`);
    expect(run.stderr).toContain(`--pred ${logitsPath} has shape [16, 10]`);
  });

  test("weight mismatch names both files", () => {
    const badWeights = tmp("bad-weights.json");
    writeFileSync(badWeights, "[[1, 2], [3, 4]]");
    const run = xent(...scoreLogits("--sample-weight", badWeights));
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      `--sample-weight ${badWeights} has shape [2, 2]`,
    );
    expect(run.stderr).toContain(`--pred ${logitsPath} has shape [16, 10]`);
  });

  test("class-weight count mismatch", () => {
    const run = xent(...scoreLogits("--class-weights", "1,2,3"));
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("--class-weights has 3 values");
    expect(run.stderr).toContain("10 classes");
  });

  test("missing file exits 1", () => {
    const missing = tmp("missing.npy");
    const run = xent("score", "--pred", missing, "--labels", labelsPath);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(missing);
  });

  test("library errors name the rows", () => {
    const outOfRange = tmp("out-of-range.npy");
    writeNpy(outOfRange, new Int32Array(16).fill(12), [16]);
    const run = xent(
      "score",
      "--pred",
      logitsPath,
      "--labels",
      outOfRange,
      "--from-logits",
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("rows [0, 16)");
    expect(run.stderr).toContain("12");
  });

  test("usage error in-process", () => {
    const run = xent("score", "--pred", logitsPath);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("missing --labels FILE");
    expect(run.stderr).toContain(USAGE);
  });
});

describe("xent child process", () => {
  test("usage errors exit 2", () => {
    for (const argv of [
      [],
      ["score", "--pred", "p.npy"],
      ["score", "--nope"],
      ["score", "--pred", "a.npy", "--labels", "b.npy", "--axis", "x"],
    ]) {
      const run = runXent(argv);
      expect(run.status, argv.join(" ")).toBe(2);
      expect(run.stderr, argv.join(" ")).toContain(USAGE);
      expect(run.stdout).toBe("");
    }
  });

  test("version and help exit 0", () => {
    const version = runXent(["--version"]);
    expect(version.status).toBe(0);
    const packageJson = JSON.parse(
      readFileSync(new URL("../../package.json", import.meta.url), "utf8"),
    );
    expect(version.stdout).toBe(`xent ${packageJson.version}\n`);
    const help = runXent(["--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("--label-smoothing");
  });

  test("scores NumPy logits", () => {
    const out = tmp("child.npy");
    const run = runXent(scoreLogits("--out", out, "--json"));
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout).count).toBe(rows);
    const losses = readNpy(out).data as Float32Array;
    referenceLosses.forEach((reference, i) => {
      expect(Math.abs(losses[i] - reference)).toBeLessThanOrEqual(
        RTOL * Math.max(1, Math.abs(reference)),
      );
    });
  });
});
