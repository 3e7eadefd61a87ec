// Builds the MNIST page, serves it on 127.0.0.1, lets headless Chromium
// train on it, and checks the page's numbers against the same run in Node.
//
// Both engines run the same wasm and the same float64 JavaScript loops, so
// in practice the numbers agree to the bit. The tolerances below allow for
// rounding that another engine might do differently, not for other results.
import { mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser } from "playwright";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import {
  runExperiment,
  summarize,
  type PageResults,
} from "../../examples/browser/experiment.js";
import {
  buildPage,
  servePage,
  type PageServer,
} from "../../examples/browser/serve.js";
import { chromiumArgs, chromiumPath } from "../chromium.js";

// Fewer epochs than the page's default of 15 keep the test short, and a
// seed other than the default checks that the page reads it from the URL.
const EPOCHS = 3;
const SEED = 2;
const RELATIVE_TOLERANCE = 1e-4;
const TEST_COUNT = 2000;

const screenshotPath = fileURLToPath(
  new URL("../../test-results/browser-page/mnist-page.png", import.meta.url),
);

let outDir: string;
let server: PageServer | undefined;
let browser: Browser | undefined;
let status: string | undefined;
let statusText: string | null = null;
let pageResults: PageResults;
let scriptResults: unknown;
const pageErrors: string[] = [];
let nodeResults: PageResults;

function expectClose(actual: number, expected: number, label: string): void {
  const error =
    Math.abs(actual - expected) / Math.max(1e-12, Math.abs(expected));
  expect(
    error,
    `${label}: page ${actual}, Node ${expected}`,
  ).toBeLessThanOrEqual(RELATIVE_TOLERANCE);
}

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), "wasm-xent-page-"));
  await buildPage(outDir);
  server = await servePage(0, outDir);
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: chromiumArgs,
  });
  const page = await browser.newPage({
    viewport: { width: 1200, height: 900 },
  });
  page.on("pageerror", (error) => pageErrors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error") pageErrors.push(message.text());
  });

  await page.goto(`${server.url}?epochs=${EPOCHS}&seed=${SEED}`);
  await page.waitForSelector(
    "body[data-status=done], body[data-status=error]",
    { timeout: 40_000 },
  );
  status = (await page.getAttribute("body", "data-status")) ?? undefined;
  statusText = await page.textContent("#status");
  pageResults = await page.evaluate(() => window.__results!);
  scriptResults = JSON.parse((await page.textContent("#results")) ?? "null");
  mkdirSync(join(screenshotPath, ".."), { recursive: true });
  await page.screenshot({ path: screenshotPath, fullPage: true });

  nodeResults = summarize(runExperiment({ epochs: EPOCHS, seed: SEED }));
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

describe("mnist page in chromium", () => {
  it("finishes without errors", () => {
    expect(status, `status line: ${statusText}`).toBe("done");
    expect(pageErrors).toEqual([]);
  });

  it("publishes identical result copies", () => {
    expect(scriptResults).toEqual(pageResults);
  });

  it("trains the requested run", () => {
    expect(pageResults.epochs).toBe(EPOCHS);
    expect(pageResults.seed).toBe(SEED);
    expect(pageResults.trainCount).toBe(8000);
    expect(pageResults.testCount).toBe(TEST_COUNT);
    expect(pageResults.epochLog).toHaveLength(EPOCHS);
  });

  it("matches node final test loss", () => {
    expectClose(pageResults.testLoss, nodeResults.testLoss, "mean test loss");
  });

  it("matches node test accuracy", () => {
    // One digit of 2000 either way.
    expect(
      Math.abs(pageResults.testAccuracy - nodeResults.testAccuracy),
    ).toBeLessThanOrEqual(1 / TEST_COUNT);
  });

  it("matches node epoch losses", () => {
    for (const [i, epoch] of pageResults.epochLog.entries()) {
      const node = nodeResults.epochLog[i];
      expectClose(epoch.trainLoss, node.trainLoss, `epoch ${i + 1} train loss`);
      expectClose(epoch.testLoss, node.testLoss, `epoch ${i + 1} test loss`);
    }
  });

  it("matches node hardest digits", () => {
    expect(pageResults.hardest).toEqual(nodeResults.hardest);
    for (const [i, loss] of pageResults.hardestLosses.entries()) {
      expectClose(
        loss,
        nodeResults.hardestLosses[i],
        `hardest digit ${i} loss`,
      );
    }
  });

  it("matches node class means", () => {
    for (const [digit, summary] of pageResults.classSummaries.entries()) {
      const node = nodeResults.classSummaries[digit];
      expect(summary.count).toBe(node.count);
      expectClose(summary.meanLoss, node.meanLoss, `digit ${digit} mean loss`);
    }
  });

  it("matches node loss histogram", () => {
    const total = pageResults.histogramCounts.reduce((sum, n) => sum + n, 0);
    expect(total).toBe(TEST_COUNT);
    expect(pageResults.histogramEdges).toEqual(nodeResults.histogramEdges);
    // A loss that sits on a bin edge may fall on either side of it.
    for (const [bin, count] of pageResults.histogramCounts.entries()) {
      expect(
        Math.abs(count - nodeResults.histogramCounts[bin]),
        `bin ${bin}`,
      ).toBeLessThanOrEqual(1);
    }
  });

  it("rejects invalid epochs parameter", async () => {
    const page = await browser!.newPage();
    await page.goto(`${server!.url}?epochs=0`);
    await page.waitForSelector("body[data-status=error]", { timeout: 10_000 });
    expect(await page.textContent("#status")).toContain(
      'The URL parameter epochs is "0"',
    );
    await page.close();
  });

  it("saves a screenshot", () => {
    expect(statSync(screenshotPath).size).toBeGreaterThan(10_000);
  });
});
