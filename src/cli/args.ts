// Command-line parsing and help text of `xent`.

import { existsSync } from "node:fs";
import { parseArgs } from "node:util";

import type { Reduction } from "../types.js";
import { arrayFormat } from "./array-files.js";

export const USAGE = "Usage: xent score --pred FILE --labels FILE [options]";

export const REDUCTIONS: readonly Reduction[] = [
  "none",
  "sum",
  "sum_over_batch_size",
  "mean",
  "mean_with_sample_weight",
  "totals",
];

export const DEFAULT_TOP = 10;
export const DEFAULT_CHUNK_MIB = 4;

export const HELP = `${USAGE}
       xent --help | --version

Computes the crossentropy of every row (or token) of a batch of predictions,
writes the per-row losses and prints a summary. Files are .npy (NumPy, any
header version, byte order and memory order; float, integer or bool), .csv
(one row per line, comma-separated numbers) or .json (nested arrays); the
extension selects the format. .npy input is read in chunks, so files larger
than memory work.

Input:
  --pred FILE            Predictions [batch, ..., classes]: probabilities, or
                         logits with --from-logits. Required.
  --labels FILE          Targets. Class ids with the shape of the losses (pred's
                         shape without the class axis, a trailing axis of size
                         1 allowed) select sparse crossentropy; rows with the
                         shape of pred (one-hot or soft) select categorical.
                         Required.
  --sample-weight FILE   Weight per row [batch], per token [batch, time], or a
                         single value; broadcast over the remaining axes.
                         Default: 1 for every row.
  --mask FILE            Nonzero entries are included, with the shapes
                         accepted for --sample-weight. Default: every row.
  --class-weights W      One weight per class: a file, or a comma-separated
                         list such as 1,2.5,1. Multiplies each class's term.
                         Default: none (all 1).

Loss options:
  --from-logits          Treat pred as logits (unnormalized scores). Default:
                         off, pred holds probabilities, which are divided by
                         their row sum and clipped to [1e-7, 1 - 1e-7].
  --axis N               Class axis of pred; negative counts from the end.
                         Default: -1 (last).
  --label-smoothing S    Smooth targets to y * (1 - S) + S / classes, S in
                         [0, 1]. Default: 0.
  --ignore-class N       Class id whose rows get loss 0 and are left out of
                         every count and mean (class-id labels only). Default:
                         none.
  --focal-gamma G        Use focal crossentropy with focusing exponent G >= 0
                         (2 is the usual choice). Default: plain crossentropy.
  --alpha A              Focal weight of each class's term: one number, or a
                         comma-separated list with one per class. Needs
                         --focal-gamma. Default: 0.25.
  --reduction R          Also print the batch loss reduced with R: none, sum,
                         sum_over_batch_size, mean (its alias),
                         mean_with_sample_weight or totals. Default: none.

Output:
  --out FILE             Write the per-row losses (weighted; 0 for masked and
                         ignored rows) as float32 .npy, .csv or .json. JSON
                         writes NaN and infinities as null. Default: no file.
  --top K                List the K rows with the highest loss, with their
                         index, label and predicted class. Default: ${DEFAULT_TOP}.
  --json                 Print the summary as one JSON object instead of text.
  --chunk-size MIB       Read pred in chunks of about MIB mebibytes (at least
                         one row). Default: ${DEFAULT_CHUNK_MIB}.
  -h, --help             Print this help and exit.
  -v, --version          Print the version and exit.

The summary counts included rows (not masked, not ignored) and gives their
loss sum, mean (sum / count), weighted mean (sum / sum of sample weight times
class weight), min, 50th, 90th and 99th percentiles (linear interpolation, as
numpy.percentile) and max. A progress bar is drawn on stderr when it is a
terminal.

Exit status: 0 on success; 1 when an input file is missing, unreadable,
invalid, or its shape does not match the others; 2 for a usage error.
Set XENT_REPORT_PEAK_RSS=1 to print the peak resident memory to stderr.
`;

const OPTIONS = {
  pred: { type: "string" },
  labels: { type: "string" },
  "sample-weight": { type: "string" },
  mask: { type: "string" },
  "class-weights": { type: "string" },
  "from-logits": { type: "boolean" },
  axis: { type: "string" },
  "label-smoothing": { type: "string" },
  "ignore-class": { type: "string" },
  "focal-gamma": { type: "string" },
  alpha: { type: "string" },
  reduction: { type: "string" },
  out: { type: "string" },
  top: { type: "string" },
  json: { type: "boolean" },
  "chunk-size": { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "v" },
} as const;

/**
 * Rewrites `--axis -1` as `--axis=-1`. parseArgs rejects a value that starts
 * with a dash as ambiguous, but negative numbers are common here.
 */
function joinNegativeValues(argv: readonly string[]): string[] {
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith("--") ? argv[i].slice(2) : "";
    const option = (OPTIONS as Record<string, { type: string }>)[name];
    const next = argv[i + 1];
    if (
      option?.type === "string" &&
      next !== undefined &&
      /^-(\d|\.\d)/.test(next)
    ) {
      args.push(`${argv[i]}=${next}`);
      i++;
    } else {
      args.push(argv[i]);
    }
  }
  return args;
}

/** Options of `xent score`, validated. */
export interface ScoreArgs {
  pred: string;
  labels: string;
  sampleWeight?: string;
  mask?: string;
  /** A file name, or the values of a comma-separated list. */
  classWeights?: string | number[];
  fromLogits: boolean;
  axis: number;
  labelSmoothing: number;
  ignoreClass?: number;
  focalGamma?: number;
  alpha?: number | number[];
  reduction: Reduction;
  out?: string;
  top: number;
  json: boolean;
  chunkBytes: number;
}

export type ParsedCommand =
  | { command: "help" }
  | { command: "version" }
  | { command: "score"; args: ScoreArgs };

/** A mistake in the command line; the command prints the usage line and exits with 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * Parses the arguments after the program name.
 *
 * @throws UsageError for an unknown command or option, a missing required
 *   option, or an invalid value.
 */
export function parseCommandLine(argv: readonly string[]): ParsedCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: joinNegativeValues(argv),
      allowPositionals: true,
      strict: true,
      options: OPTIONS,
    });
  } catch (error) {
    // parseArgs throws TypeError with an ERR_PARSE_ARGS_* code for unknown
    // options, missing values and stray positionals.
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;

  if (values.help) {
    return { command: "help" };
  }
  if (values.version) {
    return { command: "version" };
  }
  if (positionals.length === 0) {
    throw new UsageError("missing command; the only command is 'score'.");
  }
  if (positionals[0] !== "score") {
    throw new UsageError(
      `unknown command '${positionals[0]}'; the only command is 'score'.`,
    );
  }
  if (positionals.length > 1) {
    throw new UsageError(
      `unexpected argument '${positionals[1]}'; every input is given with an option such as --pred.`,
    );
  }

  for (const required of ["pred", "labels"] as const) {
    if (values[required] === undefined) {
      throw new UsageError(`missing --${required} FILE.`);
    }
  }
  for (const name of [
    "pred",
    "labels",
    "sample-weight",
    "mask",
    "out",
  ] as const) {
    const path = values[name];
    if (path !== undefined && arrayFormat(path) === undefined) {
      throw new UsageError(
        `--${name} ${path}: unknown file type; use a .npy, .csv or .json file.`,
      );
    }
  }

  const reduction = values.reduction ?? "none";
  if (!(REDUCTIONS as readonly string[]).includes(reduction)) {
    throw new UsageError(
      `--reduction is '${reduction}', but it must be one of ${REDUCTIONS.join(", ")}.`,
    );
  }
  const focalGamma = optionalNumber("focal-gamma", values["focal-gamma"], {
    min: 0,
  });
  if (values.alpha !== undefined && focalGamma === undefined) {
    throw new UsageError(
      "--alpha applies to focal crossentropy only; add --focal-gamma G.",
    );
  }
  let alpha: number | number[] | undefined;
  if (values.alpha !== undefined) {
    const list = parseNumberList("alpha", values.alpha);
    alpha = list.length === 1 && !values.alpha.includes(",") ? list[0] : list;
  }

  return {
    command: "score",
    args: {
      pred: values.pred!,
      labels: values.labels!,
      sampleWeight: values["sample-weight"],
      mask: values.mask,
      classWeights: parseClassWeights(values["class-weights"]),
      fromLogits: values["from-logits"] ?? false,
      axis: optionalNumber("axis", values.axis, { integer: true }) ?? -1,
      labelSmoothing:
        optionalNumber("label-smoothing", values["label-smoothing"], {
          min: 0,
          max: 1,
        }) ?? 0,
      ignoreClass: optionalNumber("ignore-class", values["ignore-class"], {
        integer: true,
      }),
      focalGamma,
      alpha,
      reduction: reduction as Reduction,
      out: values.out,
      top:
        optionalNumber("top", values.top, { integer: true, min: 0 }) ??
        DEFAULT_TOP,
      json: values.json ?? false,
      chunkBytes:
        (optionalNumber("chunk-size", values["chunk-size"], {
          min: 0,
          exclusiveMin: true,
        }) ?? DEFAULT_CHUNK_MIB) *
        2 ** 20,
    },
  };
}

interface NumberLimits {
  integer?: boolean;
  min?: number;
  max?: number;
  /** Whether `min` itself is invalid. */
  exclusiveMin?: boolean;
}

function optionalNumber(
  name: string,
  text: string | undefined,
  limits: NumberLimits = {},
): number | undefined {
  if (text === undefined) {
    return undefined;
  }
  const value = text.trim() === "" ? NaN : Number(text);
  const kind = limits.integer ? "an integer" : "a number";
  if (!Number.isFinite(value) || (limits.integer && !Number.isInteger(value))) {
    throw new UsageError(`--${name} is '${text}', but it must be ${kind}.`);
  }
  const { min, max } = limits;
  if (
    min !== undefined &&
    (value < min || (limits.exclusiveMin && value === min))
  ) {
    const bound = limits.exclusiveMin
      ? `greater than ${min}`
      : `at least ${min}`;
    throw new UsageError(`--${name} is ${text}, but it must be ${bound}.`);
  }
  if (max !== undefined && value > max) {
    throw new UsageError(
      `--${name} is ${text}, but it must be at most ${max}.`,
    );
  }
  return value;
}

function parseNumberList(name: string, text: string): number[] {
  const items = text.split(",");
  return items.map((item) => {
    const value = item.trim() === "" ? NaN : Number(item);
    if (!Number.isFinite(value)) {
      throw new UsageError(
        `--${name} is '${text}': '${item}' is not a number; give one number or a comma-separated list.`,
      );
    }
    return value;
  });
}

/** Reads --class-weights as an existing file name, or else as a comma-separated list. */
function parseClassWeights(
  text: string | undefined,
): string | number[] | undefined {
  if (text === undefined) {
    return undefined;
  }
  // A name with an array extension stays a file name even if it does not
  // exist, so that reading it reports the missing file.
  if (existsSync(text) || arrayFormat(text) !== undefined) {
    return text;
  }
  const items = text.split(",");
  return items.map((item) => {
    const value = item.trim() === "" ? NaN : Number(item);
    if (!Number.isFinite(value)) {
      throw new UsageError(
        `--class-weights is '${text}', which is neither an existing file nor a comma-separated list of numbers.`,
      );
    }
    return value;
  });
}
