#!/usr/bin/env node
// Entry point of the `xent` command; see run.ts and `xent --help`.

import { runCli } from "./run.js";

process.exitCode = runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
});
