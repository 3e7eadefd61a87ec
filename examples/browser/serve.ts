// Builds the page and serves it on 127.0.0.1, printing its URL.
//
//   npm run browser-demo [-- --port 4173]
//
// Needs the wasm bytes built once: `npm run build:wasm` (the npm script
// runs it first).
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { build, preview } from "vite";

const configFile = fileURLToPath(new URL("./vite.config.ts", import.meta.url));

/**
 * Builds the page into `outDir` (default examples/browser/dist/).
 * Vite's own output stays quiet except for warnings.
 */
export async function buildPage(outDir?: string): Promise<void> {
  await build({
    configFile,
    logLevel: "warn",
    build: outDir === undefined ? {} : { outDir },
  });
}

/** A running static server of the built page. */
export interface PageServer {
  /** Address of index.html, with a trailing slash. */
  url: string;
  close(): Promise<void>;
}

/**
 * Serves the built page from `outDir` on 127.0.0.1. Port 0 picks a free
 * port.
 *
 * @throws Error when the port is in use.
 */
export async function servePage(
  port: number,
  outDir?: string,
): Promise<PageServer> {
  const server = await preview({
    configFile,
    logLevel: "warn",
    build: outDir === undefined ? {} : { outDir },
    preview: { host: "127.0.0.1", port, strictPort: true, open: false },
  });
  const address = server.httpServer.address();
  if (address === null || typeof address === "string") {
    throw new Error(`The preview server has no TCP address: ${address}.`);
  }
  return {
    url: `http://127.0.0.1:${address.port}/`,
    close: () => server.close(),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { port: { type: "string", default: "4173" } },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(
      `--port is "${values.port}", but it must be an integer from 0 to 65535.`,
    );
  }
  const started = performance.now();
  await buildPage();
  console.log(
    `Built the page in ${((performance.now() - started) / 1000).toFixed(1)} s.`,
  );
  const server = await servePage(port);
  console.log(`Serving the MNIST page at ${server.url}`);
  console.log(`Add ?epochs=3 for a shorter run. Press Ctrl+C to stop.`);
}

if (
  process.argv[1] &&
  import.meta.url === pathToFileURL(process.argv[1]).href
) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
