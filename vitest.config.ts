import { configDefaults, defineConfig } from "vitest/config";
import { playwright } from "@vitest/browser-playwright";
import { chromiumArgs, chromiumPath } from "./test/chromium.js";

// Tests that need Node (file system, child processes, npm) run only in the
// `node` project: files named `*.node.test.ts`, and everything under
// test/package/ and test/cli/. Files named `*.browser.test.ts` check
// browser behavior and run only in the `browser` project.
const nodeOnly = ["test/**/*.node.test.ts", "test/package/**", "test/cli/**"];
const browserOnly = ["test/**/*.browser.test.ts"];

export default defineConfig({
  test: {
    // Both projects run at the same time, and CI machines may have two
    // cores, so tests run slower than on a developer machine. The projects
    // inherit this through `extends: true`.
    testTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: {
          name: "node",
          environment: "node",
          include: ["test/**/*.test.ts"],
          exclude: [...configDefaults.exclude, ...browserOnly],
        },
      },
      {
        extends: true,
        test: {
          name: "browser",
          include: ["test/**/*.test.ts"],
          exclude: [...configDefaults.exclude, ...nodeOnly],
          browser: {
            enabled: true,
            headless: true,
            // The tests check numbers, not pixels, so a failure screenshot
            // would only leave files in the work tree.
            screenshotFailures: false,
            provider: playwright({
              launchOptions: {
                executablePath: chromiumPath,
                args: chromiumArgs,
              },
            }),
            instances: [{ browser: "chromium" }],
          },
        },
      },
    ],
  },
});
