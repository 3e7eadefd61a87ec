// Runs the xent command in a child process, from the TypeScript source.

import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
export const mainScript = fileURLToPath(
  new URL("../../src/cli/main.ts", import.meta.url),
);

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `xent ARGS` with tsx and waits for it; `env` adds environment variables. */
export function runXent(
  args: string[],
  env: Record<string, string> = {},
): CliRun {
  const result = spawnSync(
    process.execPath,
    ["--import", "tsx", mainScript, ...args],
    {
      cwd: repoRoot,
      encoding: "utf8",
      env: { ...process.env, ...env },
    },
  );
  if (result.error) {
    throw result.error;
  }
  return {
    status: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
  };
}
