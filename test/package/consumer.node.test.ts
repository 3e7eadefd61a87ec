/**
 * Packs wasm-xent as `npm publish` would and installs the tarball into a
 * scratch project. The tests then use it as consumers do. They import it
 * from Node, type-check it with TypeScript, bundle it with Vite and with
 * esbuild, and load dist/ without a bundler through an import map. Pages run
 * in headless Chromium, served from a loopback HTTP server that this file
 * starts.
 *
 * Every page computes the sparse crossentropy of logits [[1, 2, 3]] with
 * label 2: log(e^1 + e^2 + e^3) - 3 = 0.40760596 (float64, rounded).
 */
import { execFile } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";

import { build as esbuild } from "esbuild";
import { chromium, type Browser } from "playwright";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { build as viteBuild } from "vite";
import { chromiumArgs, chromiumPath } from "../chromium.js";

const execFileAsync = promisify(execFile);

const root = fileURLToPath(new URL("../..", import.meta.url));

const expectedLoss = 0.40760596;
const lossTolerance = 1e-6;

// The script shared by the Node check and the Vite, esbuild and import-map
// pages. It stores the losses or the error in `globalThis.testResult`.
const pageScript = `import { sparseCategoricalCrossentropy } from "wasm-xent";

try {
  const losses = sparseCategoricalCrossentropy([2], [[1, 2, 3]], {
    fromLogits: true,
  });
  globalThis.testResult = { losses: Array.from(losses) };
} catch (error) {
  globalThis.testResult = { error: String(error?.stack ?? error) };
}
`;

const mimeTypes: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".wasm": "application/wasm",
  ".css": "text/css",
};

let scratchDir = "";
let tarballPath = "";
let packedFiles: string[] = [];
let server: Server;
let origin = "";
let browser: Browser;

/** Runs a command and returns its stdout. A failure throws with its output. */
async function run(command: string, args: string[], cwd: string) {
  try {
    const { stdout } = await execFileAsync(command, args, {
      cwd,
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const { stderr = "", stdout = "" } = error as {
      stderr?: string;
      stdout?: string;
    };
    throw new Error(
      `${command} ${args.join(" ")} failed in ${cwd}:\n${stdout}\n${stderr}`,
    );
  }
}

/** Returns the latest modification time of the files under a folder. */
function newestMtime(folder: string): number {
  let newest = 0;
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    const mtime = entry.isDirectory()
      ? newestMtime(path)
      : statSync(path).mtimeMs;
    newest = Math.max(newest, mtime);
  }
  return newest;
}

/**
 * Runs `npm run build` unless dist/ is newer than every source. `npm test`
 * builds first, so this only builds when the file is run on its own.
 */
async function ensureBuilt() {
  let distTime = 0;
  try {
    distTime = statSync(join(root, "dist", "index.js")).mtimeMs;
  } catch {
    distTime = 0;
  }
  const sourceTime = Math.max(
    newestMtime(join(root, "src")),
    newestMtime(join(root, "assembly")),
  );
  if (distTime < sourceTime) await run("npm", ["run", "build"], root);
}

/** Serves files under `servedRoot` and nothing outside it. */
function startServer(servedRoot: string): Promise<Server> {
  const httpServer = createServer((request, response) => {
    const urlPath = decodeURIComponent(
      new URL(request.url ?? "/", "http://127.0.0.1").pathname,
    );
    // Chromium requests a favicon. An empty response keeps a 404 out of the
    // console errors that the pages are checked for.
    if (urlPath === "/favicon.ico") {
      response.writeHead(204);
      response.end();
      return;
    }
    const filePath = normalize(join(servedRoot, urlPath));
    const inside = filePath.startsWith(servedRoot + sep);
    let body: Buffer | undefined;
    try {
      if (inside && statSync(filePath).isFile()) body = readFileSync(filePath);
    } catch {
      body = undefined;
    }
    if (body === undefined) {
      response.writeHead(404, { "content-type": "text/plain" });
      response.end(`not found: ${urlPath}`);
      return;
    }
    const type = mimeTypes[extname(filePath)] ?? "application/octet-stream";
    response.writeHead(200, { "content-type": type });
    response.end(body);
  });
  return new Promise((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(0, "127.0.0.1", () => resolve(httpServer));
  });
}

interface PageRun {
  /** The losses the page computed. */
  losses: number[];
  /** Paths, relative to the served root, of every file the page requested. */
  requestedPaths: string[];
}

/** Opens a page, waits for `window.testResult` and returns it. */
async function runPage(pagePath: string): Promise<PageRun> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  const requestedUrls: string[] = [];
  page.on("pageerror", (error) => errors.push(error.stack ?? error.message));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("request", (request) => requestedUrls.push(request.url()));

  try {
    await page.goto(`${origin}/${pagePath}`);
    try {
      await page.waitForFunction(() => "testResult" in window, undefined, {
        timeout: 20_000,
      });
    } catch {
      throw new Error(
        `${pagePath} set no testResult within 20 s. Page errors:\n` +
          errors.join("\n"),
      );
    }
    const result = (await page.evaluate(() => (window as any).testResult)) as {
      losses?: number[];
      error?: string;
    };
    if (result.error !== undefined) {
      throw new Error(`${pagePath} threw: ${result.error}`);
    }
    expect(errors).toEqual([]);

    const requestedPaths = requestedUrls.map((url) => {
      expect(url.startsWith(`${origin}/`)).toBe(true);
      return new URL(url).pathname.slice(1);
    });
    return { losses: result.losses ?? [], requestedPaths };
  } finally {
    await context.close();
  }
}

/** Returns the raw and gzip-compressed byte counts of the JavaScript a page loaded. */
function measureJavaScript(requestedPaths: string[]) {
  let raw = 0;
  let gzipped = 0;
  for (const path of requestedPaths) {
    if (!path.endsWith(".js")) continue;
    const bytes = readFileSync(join(scratchDir, path));
    raw += bytes.length;
    gzipped += gzipSync(bytes, { level: 9 }).length;
  }
  return { raw, gzipped };
}

function formatKiB(bytes: number) {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

beforeAll(async () => {
  await ensureBuilt();
  scratchDir = mkdtempSync(join(tmpdir(), "wasm-xent-consumer-"));

  const packOutput = await run(
    "npm",
    ["pack", "--json", "--pack-destination", scratchDir],
    root,
  );
  const [packResult] = JSON.parse(packOutput) as {
    filename: string;
    files: { path: string }[];
  }[];
  tarballPath = join(scratchDir, packResult.filename);
  packedFiles = packResult.files.map((file) => file.path);

  writeFileSync(
    join(scratchDir, "package.json"),
    JSON.stringify({ name: "consumer", private: true, type: "module" }),
  );
  await run(
    "npm",
    ["install", "--no-audit", "--no-fund", "--prefer-offline", tarballPath],
    scratchDir,
  );

  server = await startServer(scratchDir);
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: chromiumArgs,
  });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  if (scratchDir) rmSync(scratchDir, { recursive: true, force: true });
});

describe("packed package", () => {
  test("tarball contents", () => {
    expect(packedFiles).toContain("package.json");
    expect(packedFiles).toContain("dist/index.js");
    expect(packedFiles).toContain("dist/index.d.ts");
    const outside = packedFiles.filter(
      (path) =>
        path !== "package.json" &&
        path !== "README.md" &&
        path !== "LICENSE" &&
        !path.startsWith("dist/"),
    );
    expect(outside).toEqual([]);
  });

  test("Node import computes loss", async () => {
    writeFileSync(
      join(scratchDir, "node-check.mjs"),
      pageScript + "console.log(JSON.stringify(globalThis.testResult));\n",
    );
    const output = await run("node", ["node-check.mjs"], scratchDir);
    const result = JSON.parse(output) as { losses?: number[]; error?: string };
    expect(result.error).toBeUndefined();
    expect(result.losses).toHaveLength(1);
    expect(result.losses![0]).toBeCloseTo(expectedLoss, 6);
  }, 60_000);

  test.each(["NodeNext", "Bundler"])(
    "types check with %s resolution",
    async (resolution) => {
      const folder = join(scratchDir, `types-${resolution}`);
      mkdirSync(folder);
      // The @ts-expect-error line fails the check when the declarations are
      // missing, because an untyped import accepts any reduction name.
      writeFileSync(
        join(folder, "consumer.ts"),
        `import { sparseCategoricalCrossentropy } from "wasm-xent";

const losses = sparseCategoricalCrossentropy([2], [[1, 2, 3]], {
  fromLogits: true,
});
console.log(losses);

// @ts-expect-error: "average" is not a reduction name
sparseCategoricalCrossentropy([2], [[1, 2, 3]], { reduction: "average" });
`,
      );
      writeFileSync(
        join(folder, "tsconfig.json"),
        JSON.stringify({
          compilerOptions: {
            target: "ES2022",
            module: resolution === "Bundler" ? "ESNext" : "NodeNext",
            moduleResolution: resolution,
            strict: true,
            noEmit: true,
            lib: ["ES2022", "DOM"],
            types: [],
          },
          files: ["consumer.ts"],
        }),
      );
      const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
      await run(process.execPath, [tsc, "-p", folder], folder);
    },
    60_000,
  );
});

describe("browser consumers", () => {
  test("Vite bundle in Chromium", async () => {
    const source = join(scratchDir, "vite-src");
    mkdirSync(source);
    writeFileSync(join(source, "main.js"), pageScript);
    writeFileSync(
      join(source, "index.html"),
      '<!doctype html>\n<script type="module" src="./main.js"></script>\n',
    );
    await viteBuild({
      root: source,
      configFile: false,
      logLevel: "silent",
      base: "./",
      build: { outDir: join(scratchDir, "vite-dist"), emptyOutDir: true },
    });

    const { losses, requestedPaths } = await runPage("vite-dist/index.html");
    expect(losses).toHaveLength(1);
    expect(Math.abs(losses[0] - expectedLoss)).toBeLessThan(lossTolerance);
    expect(requestedPaths.filter((path) => path.endsWith(".wasm"))).toEqual([]);

    const size = measureJavaScript(requestedPaths);
    console.info(
      `Vite bundle: ${formatKiB(size.raw)} minified, ` +
        `${formatKiB(size.gzipped)} gzipped`,
    );
    expect(size.raw).toBeGreaterThan(0);
  }, 120_000);

  test("esbuild bundle in Chromium", async () => {
    const outFolder = join(scratchDir, "esbuild-dist");
    mkdirSync(outFolder);
    writeFileSync(join(scratchDir, "esbuild-main.js"), pageScript);
    const result = await esbuild({
      entryPoints: [join(scratchDir, "esbuild-main.js")],
      bundle: true,
      format: "esm",
      platform: "browser",
      minify: true,
      metafile: true,
      outfile: join(outFolder, "main.js"),
      absWorkingDir: scratchDir,
      logLevel: "silent",
    });
    writeFileSync(
      join(outFolder, "index.html"),
      '<!doctype html>\n<script type="module" src="./main.js"></script>\n',
    );

    // Only the page script and the package's own files go into the bundle.
    // The runtime dependency cli-progress is for the command line tool.
    const bundledInputs = Object.keys(result.metafile.inputs).filter(
      (input) => input !== "esbuild-main.js",
    );
    const foreignInputs = bundledInputs.filter(
      (input) => !input.startsWith("node_modules/wasm-xent/dist/"),
    );
    expect(foreignInputs).toEqual([]);

    const { losses, requestedPaths } = await runPage("esbuild-dist/index.html");
    expect(losses).toHaveLength(1);
    expect(Math.abs(losses[0] - expectedLoss)).toBeLessThan(lossTolerance);
    expect(requestedPaths.filter((path) => path.endsWith(".wasm"))).toEqual([]);

    const size = measureJavaScript(requestedPaths);
    console.info(
      `esbuild bundle: ${formatKiB(size.raw)} minified, ` +
        `${formatKiB(size.gzipped)} gzipped`,
    );
    expect(size.raw).toBeGreaterThan(0);
  }, 120_000);

  test("unbundled import map in Chromium", async () => {
    const folder = join(scratchDir, "import-map");
    mkdirSync(folder);
    const importMap = {
      imports: { "wasm-xent": "/node_modules/wasm-xent/dist/index.js" },
    };
    writeFileSync(
      join(folder, "index.html"),
      "<!doctype html>\n" +
        `<script type="importmap">${JSON.stringify(importMap)}</script>\n` +
        `<script type="module">\n${pageScript}</script>\n`,
    );

    const { losses, requestedPaths } = await runPage("import-map/index.html");
    expect(losses).toHaveLength(1);
    expect(Math.abs(losses[0] - expectedLoss)).toBeLessThan(lossTolerance);
    expect(requestedPaths.filter((path) => path.endsWith(".wasm"))).toEqual([]);

    const size = measureJavaScript(requestedPaths);
    console.info(
      `Unbundled dist/: ${formatKiB(size.raw)} unminified, ` +
        `${formatKiB(size.gzipped)} gzipped`,
    );
    expect(size.raw).toBeGreaterThan(0);
  }, 60_000);
});
