// Runs vitest once over both projects (node and browser) and prints the
// closing line `N passed, N failed[, N skipped]` that CI reads.
//
// Usage: node scripts/run-tests.mjs [vitest arguments...]
//   e.g. `npm test -- --project node` or `npm test -- test/browser`
//
// Exits non-zero when a test or a test file fails, when no test ran, or when
// vitest itself fails (an unhandled error, a crash, a missing browser).

import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const vitestBin = join(root, "node_modules", "vitest", "vitest.mjs");
const reportPath = join(root, ".vitest-report.json");

/** Runs vitest with the console and JSON reporters; resolves to its exit code. */
function runVitest(extraArgs) {
  const args = [
    vitestBin,
    "run",
    "--reporter=default",
    "--reporter=json",
    `--outputFile.json=${reportPath}`,
    ...extraArgs,
  ];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      cwd: root,
      stdio: "inherit",
    });
    child.on("error", (error) => {
      console.error(`Failed to start vitest: ${error.message}`);
      resolve(1);
    });
    child.on("exit", (code, signal) => {
      if (signal) console.error(`vitest was killed by ${signal}.`);
      resolve(code ?? 1);
    });
  });
}

/**
 * Counts tests in a vitest JSON report. A test file that fails without a
 * failing test (an import error, an error in a hook) counts as one failure,
 * so that the closing line never reads "0 failed" for a failed run.
 */
function countResults(report) {
  let failedFiles = 0;
  for (const file of report.testResults) {
    const hasFailedTest = file.assertionResults.some(
      (result) => result.status === "failed",
    );
    if (file.status === "failed" && !hasFailedTest) failedFiles += 1;
  }
  return {
    passed: report.numPassedTests,
    failed: report.numFailedTests + failedFiles,
    skipped: report.numPendingTests + report.numTodoTests,
  };
}

rmSync(reportPath, { force: true });
const exitCode = await runVitest(process.argv.slice(2));

let counts = { passed: 0, failed: 0, skipped: 0 };
if (existsSync(reportPath)) {
  counts = countResults(JSON.parse(readFileSync(reportPath, "utf8")));
} else {
  console.error(
    `vitest wrote no report to ${reportPath}; see its output above.`,
  );
}

const problems = [];
if (exitCode !== 0) problems.push(`vitest exited with code ${exitCode}`);
if (counts.passed + counts.failed === 0) problems.push("no test ran");

console.log();
for (const problem of problems) console.log(`Test run failed: ${problem}.`);
let closingLine = `${counts.passed} passed, ${counts.failed} failed`;
if (counts.skipped > 0) closingLine += `, ${counts.skipped} skipped`;
console.log(closingLine);

const failed = problems.length > 0 || counts.failed > 0;
process.exit(failed ? 1 : 0);
