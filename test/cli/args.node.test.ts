import { describe, expect, test } from "vitest";

import {
  DEFAULT_CHUNK_MIB,
  DEFAULT_TOP,
  HELP,
  parseCommandLine,
  REDUCTIONS,
  UsageError,
} from "../../src/cli/args.js";

function scoreArgs(...extra: string[]) {
  const parsed = parseCommandLine([
    "score",
    "--pred",
    "p.npy",
    "--labels",
    "l.npy",
    ...extra,
  ]);
  if (parsed.command !== "score") throw new Error(`parsed ${parsed.command}`);
  return parsed.args;
}

describe("xent argument parsing", () => {
  test("defaults", () => {
    expect(scoreArgs()).toEqual({
      pred: "p.npy",
      labels: "l.npy",
      sampleWeight: undefined,
      mask: undefined,
      classWeights: undefined,
      fromLogits: false,
      axis: -1,
      labelSmoothing: 0,
      ignoreClass: undefined,
      focalGamma: undefined,
      alpha: undefined,
      reduction: "none",
      out: undefined,
      top: DEFAULT_TOP,
      json: false,
      chunkBytes: DEFAULT_CHUNK_MIB * 2 ** 20,
    });
  });

  test("every flag", () => {
    const args = scoreArgs(
      "--sample-weight=w.csv",
      "--mask",
      "m.json",
      "--class-weights",
      "1,2.5, 3",
      "--from-logits",
      "--axis",
      "1",
      "--label-smoothing",
      "0.1",
      "--ignore-class",
      "-100",
      "--focal-gamma",
      "2",
      "--alpha",
      "0.5",
      "--reduction",
      "mean_with_sample_weight",
      "--out",
      "losses.csv",
      "--top",
      "0",
      "--json",
      "--chunk-size",
      "0.5",
    );
    expect(args).toMatchObject({
      sampleWeight: "w.csv",
      mask: "m.json",
      classWeights: [1, 2.5, 3],
      fromLogits: true,
      axis: 1,
      labelSmoothing: 0.1,
      ignoreClass: -100,
      focalGamma: 2,
      alpha: 0.5,
      reduction: "mean_with_sample_weight",
      out: "losses.csv",
      top: 0,
      json: true,
      chunkBytes: 2 ** 19,
    });
  });

  test("alpha list and class-weight file", () => {
    const args = scoreArgs(
      "--focal-gamma",
      "0",
      "--alpha",
      "0.25,0.75",
      "--class-weights",
      "w.npy",
    );
    expect(args.alpha).toEqual([0.25, 0.75]);
    expect(args.classWeights).toBe("w.npy");
  });

  test("help and version", () => {
    expect(parseCommandLine(["--help"])).toEqual({ command: "help" });
    expect(parseCommandLine(["score", "-h"])).toEqual({ command: "help" });
    expect(parseCommandLine(["--version"])).toEqual({ command: "version" });
  });

  test("help documents every flag", () => {
    const flags = [
      "--pred",
      "--labels",
      "--sample-weight",
      "--mask",
      "--class-weights",
      "--from-logits",
      "--axis",
      "--label-smoothing",
      "--ignore-class",
      "--focal-gamma",
      "--alpha",
      "--reduction",
      "--out",
      "--top",
      "--json",
      "--chunk-size",
      "--help",
      "--version",
    ];
    for (const flag of flags) {
      expect(HELP, flag).toContain(flag);
    }
    for (const reduction of REDUCTIONS) {
      expect(HELP, reduction).toContain(reduction);
    }
    expect(HELP).toContain("Exit status");
  });

  test.each([
    [[], "missing command"],
    [["scroe"], "unknown command 'scroe'"],
    [["score", "--labels", "l.npy"], "missing --pred FILE"],
    [["score", "--pred", "p.npy"], "missing --labels FILE"],
    [["score", "--pred", "p.npy", "--labels", "l.npy", "--bogus"], "--bogus"],
    [
      ["score", "--pred", "p.txt", "--labels", "l.npy"],
      "--pred p.txt: unknown file type",
    ],
    [
      ["score", "--pred", "p.npy", "--labels", "l.npy", "extra"],
      "unexpected argument 'extra'",
    ],
    [
      ["score", "--pred", "p.npy", "--labels", "l.npy", "--axis", "1.5"],
      "--axis is '1.5', but it must be an integer",
    ],
    [
      [
        "score",
        "--pred",
        "p.npy",
        "--labels",
        "l.npy",
        "--label-smoothing",
        "2",
      ],
      "at most 1",
    ],
    [
      ["score", "--pred", "p.npy", "--labels", "l.npy", "--focal-gamma", "-1"],
      "at least 0",
    ],
    [
      ["score", "--pred", "p.npy", "--labels", "l.npy", "--alpha", "0.5"],
      "add --focal-gamma",
    ],
    [
      [
        "score",
        "--pred",
        "p.npy",
        "--labels",
        "l.npy",
        "--focal-gamma",
        "2",
        "--alpha",
        "a,b",
      ],
      "'a' is not a number",
    ],
    [
      ["score", "--pred", "p.npy", "--labels", "l.npy", "--reduction", "avg"],
      "--reduction is 'avg'",
    ],
    [
      [
        "score",
        "--pred",
        "p.npy",
        "--labels",
        "l.npy",
        "--class-weights",
        "1,x",
      ],
      "neither an existing file",
    ],
    [
      ["score", "--pred", "p.npy", "--labels", "l.npy", "--top", "-1"],
      "--top is -1",
    ],
    [
      ["score", "--pred", "p.npy", "--labels", "l.npy", "--chunk-size", "0"],
      "greater than 0",
    ],
    [
      ["score", "--pred", "p.npy", "--labels", "l.npy", "--out", "o.bin"],
      "--out o.bin: unknown file type",
    ],
  ])("rejects %j", (argv, message) => {
    expect(() => parseCommandLine(argv)).toThrow(UsageError);
    expect(() => parseCommandLine(argv)).toThrow(message);
  });
});
