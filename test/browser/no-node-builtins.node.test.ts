/**
 * Bundles src/index.ts for the browser with esbuild, which fails on any
 * import it cannot resolve for that platform, such as `node:fs`. The
 * library must bundle from its own files alone, because the runtime
 * dependency cli-progress belongs to the command line tool.
 */
import { fileURLToPath } from "node:url";

import { build } from "esbuild";
import { expect, test } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));

test("browser bundle uses only src", async () => {
  const result = await build({
    entryPoints: ["src/index.ts"],
    absWorkingDir: root,
    bundle: true,
    format: "esm",
    platform: "browser",
    write: false,
    metafile: true,
    logLevel: "silent",
  });

  const inputs = Object.keys(result.metafile.inputs);
  expect(inputs).toContain("src/index.ts");
  expect(inputs.filter((input) => !input.startsWith("src/"))).toEqual([]);
  expect(inputs.filter((input) => input.startsWith("src/cli/"))).toEqual([]);

  const output = Object.values(result.metafile.outputs)[0];
  expect(output.imports.filter((entry) => entry.external)).toEqual([]);
});
