// Builds the page with `npx vite build --config examples/browser/vite.config.ts`
// (or through serve.ts). The output goes to examples/browser/dist/.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

import { encodeDigits } from "./digits-format.js";

const pageDir = dirname(fileURLToPath(import.meta.url));
const DIGITS_FILE = "mnist-digits.bin";

/** Reads the `mnist` package's ten JSON files and packs them. */
function packMnistDigits(): Uint8Array {
  const require = createRequire(import.meta.url);
  const packageDir = dirname(require.resolve("mnist/package.json"));
  const rawByDigit: number[][] = [];
  for (let digit = 0; digit < 10; digit++) {
    const path = join(packageDir, "src", "digits", `${digit}.json`);
    rawByDigit.push(
      (JSON.parse(readFileSync(path, "utf8")) as { data: number[] }).data,
    );
  }
  return encodeDigits(rawByDigit);
}

/**
 * Emits the packed digits as `mnist-digits.bin` next to index.html, and
 * serves the same bytes from the dev server.
 */
function mnistDigits(): Plugin {
  let packed: Uint8Array | undefined;
  const bytes = () => (packed ??= packMnistDigits());
  return {
    name: "mnist-digits",
    generateBundle() {
      this.emitFile({ type: "asset", fileName: DIGITS_FILE, source: bytes() });
    },
    configureServer(server) {
      server.middlewares.use(`/${DIGITS_FILE}`, (_request, response) => {
        response.setHeader("Content-Type", "application/octet-stream");
        response.end(bytes());
      });
    },
  };
}

export default defineConfig({
  root: pageDir,
  // Relative asset URLs, so the built page works from any directory.
  base: "./",
  resolve: {
    // examples/mnist/data.ts imports the `mnist` package, which reads its
    // files with require(). In the page that import gets a table that the
    // worker fills from mnist-digits.bin.
    alias: [
      { find: /^mnist$/, replacement: join(pageDir, "mnist-browser.ts") },
    ],
  },
  worker: { format: "es" },
  build: {
    outDir: join(pageDir, "dist"),
    emptyOutDir: true,
    target: "es2022",
  },
  plugins: [mnistDigits()],
});
