// The `xent` command without process globals, so tests can run it in-process.

import { readFileSync } from "node:fs";

import cliProgress from "cli-progress";

import { HELP, parseCommandLine, USAGE, UsageError } from "./args.js";
import { formatSummaryJson, formatSummaryText } from "./report.js";
import { score, type ScoreHooks } from "./score.js";

/** Output streams of the command; `stderr.isTTY` enables the progress bar. */
export interface CliStreams {
  stdout: { write(text: string): unknown };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

/** Returns the package version from package.json, two levels above this file in src/ and dist/. */
export function packageVersion(): string {
  const packageJson = JSON.parse(
    readFileSync(new URL("../../package.json", import.meta.url), "utf8"),
  );
  return String(packageJson.version);
}

/**
 * Runs `xent` with the arguments after the program name and returns the
 * exit status: 0 on success, 1 for invalid or mismatched input files, 2 for
 * a usage error.
 */
export function runCli(argv: readonly string[], streams: CliStreams): number {
  try {
    const parsed = parseCommandLine(argv);
    if (parsed.command === "help") {
      streams.stdout.write(HELP);
      return 0;
    }
    if (parsed.command === "version") {
      streams.stdout.write(`xent ${packageVersion()}\n`);
      return 0;
    }
    const result = score(parsed.args, progressHooks(streams));
    streams.stdout.write(
      parsed.args.json ? formatSummaryJson(result) : formatSummaryText(result),
    );
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      streams.stderr.write(
        `xent: ${error.message}\n${USAGE}\nRun 'xent --help' for every option.\n`,
      );
      return 2;
    }
    if (error instanceof Error) {
      // Node's file errors name the path but not the flag it came from.
      const code = (error as NodeJS.ErrnoException).code;
      const hint = code === "ENOENT" || code === "EACCES" || code === "EISDIR" ? "; check the file flags (--pred, --labels, ...)" : "";
      streams.stderr.write(`xent: ${error.message}${hint}\n`);
      return 1;
    }
    throw error;
  } finally {
    if (process.env.XENT_REPORT_PEAK_RSS === "1") {
      // ru_maxrss, in KiB on Linux.
      streams.stderr.write(
        `xent: peak RSS ${process.resourceUsage().maxRSS} KiB\n`,
      );
    }
  }
}

/** Draws a progress bar on stderr when it is a terminal, else reports nothing. */
function progressHooks(streams: CliStreams): ScoreHooks {
  if (!streams.stderr.isTTY) {
    return {};
  }
  const bar = new cliProgress.SingleBar(
    {
      stream: streams.stderr,
      format:
        "scoring {bar} {percentage}% | {value}/{total} rows | ETA {eta_formatted}",
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    onStart: (totalRows) => {
      bar.start(totalRows, 0);
      started = true;
    },
    onProgress: (rowsDone) => bar.update(rowsDone),
    onFinish: () => {
      if (started) bar.stop();
    },
  };
}
