// Writes RESULTS.md and the throughput chart from one run's results.

import { readFileSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import os from "node:os";

const benchUrl = new URL("..", import.meta.url);

const CEILING_LABELS = {
  memoryStream: "read+sum, streamed",
  computeStream: "exp+sum, streamed",
  memoryResident: "read+sum, in memory",
  computeResident: "exp+sum, in memory",
};

const giga = (value) => (value / 1e9).toPrecision(3);
const shapeLabel = (shape) => `[${shape.join(", ")}]`;

function packageVersion(name) {
  try {
    const url = new URL(`node_modules/${name}/package.json`, benchUrl);
    return JSON.parse(readFileSync(url, "utf8")).version;
  } catch {
    return "not installed";
  }
}

function rootPackageVersion(name) {
  try {
    const url = new URL(`../node_modules/${name}/package.json`, benchUrl);
    return JSON.parse(readFileSync(url, "utf8")).version;
  } catch {
    return "not installed";
  }
}

function gitCommit() {
  const git = (...args) =>
    execFileSync("git", args, { cwd: benchUrl, encoding: "utf8" }).trim();
  try {
    const dirty = git("status", "--porcelain", "--untracked-files=no") !== "";
    return git("rev-parse", "--short=12", "HEAD") + (dirty ? " (with uncommitted changes)" : "");
  } catch {
    return "unknown";
  }
}

function cpuModel() {
  try {
    const info = readFileSync("/proc/cpuinfo", "utf8");
    const model = info.match(/^model name\s*:\s*(.*)$/m)?.[1] ?? "unknown";
    const flags = info.match(/^flags\s*:\s*(.*)$/m)?.[1].split(" ") ?? [];
    const avx512 = flags.includes("avx512f") ? ", AVX-512" : "";
    return `${model} (${os.cpus().length} logical CPUs${avx512})`;
  } catch {
    return os.cpus()[0]?.model ?? "unknown";
  }
}

function cell(result) {
  if (!result) return "";
  if (result.error) return `error: ${result.error}`;
  if (result.skipped) return result.skipped;
  if (result.single) return `${giga(result.median)} (1 call)`;
  const flag = result.check && !result.check.ok ? " †" : "";
  return `${giga(result.median)} (${giga(result.p25)}–${giga(result.p75)})${flag}`;
}

function ratio(numerator, denominator) {
  if (!numerator?.median || !denominator?.median) return "";
  const single = numerator.single || denominator.single ? " (1 call)" : "";
  return `${(numerator.median / denominator.median).toPrecision(3)}×${single}`;
}

function percent(numerator, denominator) {
  if (!numerator?.median || !denominator?.median) return "";
  return `${((100 * numerator.median) / denominator.median).toPrecision(3)}%`;
}

function table(header, rows) {
  const lines = [
    `| ${header.join(" | ")} |`,
    `| ${header.map((_, i) => (i === 0 ? "---" : "---:")).join(" | ")} |`,
  ];
  for (const row of rows) lines.push(`| ${row.join(" | ")} |`);
  return lines.join("\n");
}

function peersOf(op, results, implementations) {
  return implementations.filter((name) =>
    results.some((r) => r.operations[op.id]?.[name]),
  );
}

function ratioTable(op, results, implementations) {
  const peers = peersOf(op, results, implementations).filter(
    (name) => name !== "wasm-xent",
  );
  const header = [
    "shape",
    "wasm-xent (G elem/s)",
    ...peers.map((p) => `vs ${p}`),
    ...Object.values(CEILING_LABELS).map((c) => `of ${c}`),
  ];
  const rows = [];
  for (const r of results) {
    const ops = r.operations[op.id];
    if (!ops) continue;
    const own = ops["wasm-xent"];
    rows.push([
      shapeLabel(r.shape),
      own?.median ? giga(own.median) : "not run",
      ...peers.map((p) => ratio(own, ops[p])),
      ...Object.keys(CEILING_LABELS).map((c) => percent(own, r.ceilings[c])),
    ]);
  }
  return table(header, rows);
}

function throughputTable(op, results, implementations) {
  const names = peersOf(op, results, implementations);
  const header = ["shape", ...names.map((n) => `${n} (G elem/s)`)];
  const rows = [];
  for (const r of results) {
    const ops = r.operations[op.id];
    if (!ops) continue;
    rows.push([shapeLabel(r.shape), ...names.map((n) => cell(ops[n]))]);
  }
  return table(header, rows);
}

function failedChecks(results) {
  const lines = [];
  for (const r of results) {
    for (const [opId, ops] of Object.entries(r.operations)) {
      for (const [name, result] of Object.entries(ops)) {
        if (result.check && !result.check.ok) {
          lines.push(
            `- ${name}, ${opId}, ${shapeLabel(r.shape)}: max error ` +
              `${result.check.maxError.toExponential(2)} (${result.check.detail})`,
          );
        }
        if (result.error) lines.push(`- ${name}, ${opId}, ${shapeLabel(r.shape)}: ${result.error}`);
      }
    }
  }
  return lines;
}

function maxCheckError(results, name) {
  let max = 0;
  for (const r of results) {
    for (const ops of Object.values(r.operations)) {
      const check = ops[name]?.check;
      if (check) max = Math.max(max, check.maxError);
    }
  }
  return max;
}

const formatLoad = (load) => load.map((l) => l.toFixed(2)).join(", ");

function machineSection(run) {
  const { notes } = run;
  const lines = [
    "## Machine",
    "",
    `- CPU: ${cpuModel()}`,
    `- Node ${process.versions.node}, V8 ${process.versions.v8}, ${os.platform()} ${os.release()}`,
    `- Load average (1, 5, 15 min) at the start of the run: ${formatLoad(run.loadAtStart)}, ` +
      `at the end: ${formatLoad(os.loadavg())}. Other processes shared the CPUs, so ` +
      "compare figures within this run only.",
    `- wasm-xent commit ${gitCommit()}`,
    `- onnxruntime-node ${packageVersion("onnxruntime-node")}, ` +
      `@tensorflow/tfjs-core ${packageVersion("@tensorflow/tfjs-core")}, ` +
      `@tensorflow/tfjs-backend-wasm ${packageVersion("@tensorflow/tfjs-backend-wasm")} (${notes.tfjsWasm}), ` +
      `@tensorflow/tfjs-backend-cpu ${packageVersion("@tensorflow/tfjs-backend-cpu")}, ` +
      `tinybench ${packageVersion("tinybench")}, assemblyscript ${rootPackageVersion("assemblyscript")}`,
    `- Run time ${run.elapsedSeconds.toFixed(0)} s`,
  ];
  for (const [name, note] of Object.entries(notes)) {
    if (name !== "tfjsWasm") lines.push(`- ${name}: ${note}`);
  }
  return lines;
}

function summarySection(run, chartFile) {
  const sparse = run.operations.find((op) => op.id === "sparse-logits");
  return [
    `## ${sparse.title}: wasm-xent against peers and ceilings`,
    "",
    "\"vs X\" is wasm-xent's median throughput divided by X's; \"of\" columns " +
      "give wasm-xent's throughput as a share of each ceiling on the same " +
      "input. The rank-3 shape masks the padding tokens (about a quarter of " +
      "them). wasm-xent never reads masked rows, but throughput still counts " +
      "every logit, so there it can pass a ceiling.",
    "",
    ratioTable(sparse, run.results, run.implementations),
    "",
    "With the logits already in wasm-xent's memory (`inputBuffer()`, no copy), " +
      "as a share of the ceilings that also skip the copy:",
    "",
    inPlaceTable(run.results),
    "",
    `![throughput by shape](${chartFile})`,
  ];
}

function inPlaceTable(results) {
  const name = "wasm-xent (inputBuffer)";
  const header = ["operation", "shape", `${name} (G elem/s)`, "of read+sum, in memory", "of exp+sum, in memory"];
  const rows = [];
  for (const opId of ["sparse-logits", "log-sum-exp", "sparse-logits-grad"]) {
    for (const r of results) {
      const own = r.operations[opId]?.[name];
      if (!own) continue;
      rows.push([
        opId,
        shapeLabel(r.shape),
        own.median ? giga(own.median) : "not run",
        percent(own, r.ceilings.memoryResident),
        percent(own, r.ceilings.computeResident),
      ]);
    }
  }
  return table(header, rows);
}

function ceilingSection(run) {
  return [
    "## Ceilings",
    "",
    "AssemblyScript kernels in `ceilings/ceilings.ts`, built with the " +
      "library's release flags (`-O3 --converge --noAssert --runtime stub " +
      "--enable simd`). \"read+sum\" loads every float and adds it (the memory " +
      "ceiling). \"exp+sum\" computes a Cephes-style f32x4 exp of every float " +
      "and adds it (the compute ceiling). The vector exp has a maximum " +
      `relative error of ${run.expError.maxRelative.toExponential(2)} against ` +
      `Math.exp over ${run.expError.points} points in [-87, 88], measured in this run. ` +
      "\"Streamed\" copies the Float32Array into linear memory in chunks of " +
      `${run.chunkFloats} floats and runs the kernel on each, as a library must; ` +
      "\"in memory\" runs it on input already in linear memory. Each ceiling " +
      "is measured before and after the shape's operations, and the faster " +
      "median is shown.",
    "",
    table(
      ["shape", ...Object.values(CEILING_LABELS).map((c) => `${c} (G elem/s)`)],
      run.results.map((r) => [
        shapeLabel(r.shape),
        ...Object.keys(CEILING_LABELS).map((c) => cell(r.ceilings[c])),
      ]),
    ),
  ];
}

function operationsSection(run) {
  const lines = [
    "## Every operation",
    "",
    "Peers run only the operations they have: onnxruntime-node the ONNX " +
      "SoftmaxCrossEntropyLoss operator (sparse), ReduceLogSumExp, and small " +
      "graphs for one-hot targets; TensorFlow.js `tf.losses.softmaxCrossEntropy`, " +
      "`tf.logSoftmax` with `tf.gather`, `tf.logSumExp` and `tf.valueAndGrad`. " +
      "Focal crossentropy has no peer but plain JavaScript. † marks a result " +
      "outside 1e-5 × max(1, |reference|) of the float64 reference. A task " +
      "whose first and second calls each took longer than " +
      `${(run.budget.maxCallMs / 1000).toFixed(1)} s shows the second call only; one ` +
      `predicted to take over ${(run.budget.skipCallMs / 1000).toFixed(0)} s is skipped.`,
  ];
  for (const op of run.operations) {
    if (!run.results.some((r) => r.operations[op.id])) continue;
    lines.push(
      "",
      `### ${op.title}`,
      "",
      throughputTable(op, run.results, run.implementations),
      "",
      ratioTable(op, run.results, run.implementations),
    );
  }
  return lines;
}

function startupSection(run) {
  return [
    "## Start-up",
    "",
    "Each row is a fresh `node` process (median of " +
      `${run.startupRepeats}) that imports the implementation and computes one ` +
      "sparse crossentropy from logits on [64, 1000]. Time runs from the start " +
      "of the import to the result. Memory is the resident set size after it, " +
      "minus that of a process that imports nothing.",
    "",
    table(
      ["implementation", "import to first result (ms)", "RSS over bare Node (MiB)"],
      run.startup.map((s) =>
        s.error
          ? [s.name, `error: ${s.error}`, ""]
          : [
              s.name,
              s.ms.toFixed(1),
              s.name === "bare Node"
                ? `(${(s.rss / 2 ** 20).toFixed(1)} MiB total)`
                : (s.rssOverBare / 2 ** 20).toFixed(1),
            ],
      ),
    ),
  ];
}

function checksSection(run) {
  const measured = run.implementations.filter((n) =>
    run.results.some((r) =>
      Object.values(r.operations).some((ops) => ops[n]?.median),
    ),
  );
  const failures = failedChecks(run.results);
  return [
    "## Checks",
    "",
    "Before timing, each implementation's first result was compared with a " +
      "float64 reference (`lib/reference.mjs`), losses and gradients element " +
      "by element. Largest |result − reference| / max(1, |reference|):",
    "",
    ...measured.map(
      (name) => `- ${name}: ${maxCheckError(run.results, name).toExponential(2)}`,
    ),
    "",
    failures.length ? "Failures:\n\n" + failures.join("\n") : "Every check passed.",
  ];
}

function methodSection(run) {
  return [
    "## Method",
    "",
    `- Each task runs in its own tinybench Bench: warmup for ${run.budget.warmupTime} ms, ` +
      `then samples for at least ${run.budget.time} ms and 5 calls. A task ` +
      "whose first call took longer than that budget gets one warmup call and " +
      "3 samples. V8 compiles WebAssembly in a baseline tier first and moves " +
      "to its optimizing tier only between calls, so warmup matters.",
    "- Inputs are seeded: logits are 4 × (sum of three uniforms − 1.5), " +
      "labels uniform, probabilities uniform in (0, 1] (unnormalized, so the " +
      "from-probabilities path divides by the row sum).",
    "- onnxruntime-node runs one intra-op thread on the CPU execution provider, " +
      "with models built as protobuf bytes by `lib/onnx-model.mjs` (opset 13, " +
      "reduction none). On the rank-3 shape the mask becomes ignore_index.",
    "- TensorFlow.js calls include creating input tensors from the arrays and " +
      "reading results back with `dataSync()`.",
  ];
}

function markdown(run, chartFile) {
  const intro =
    `Written by \`bench/run.mjs${run.quick ? " --quick" : ""}\` on ${new Date().toISOString()}. ` +
    "Throughput is logits (input elements) per second, end to end from " +
    "`Float32Array` inputs to `Float32Array` outputs, on one thread. Cells " +
    "show the median and, in brackets, the p25–p75 range of per-call rates. " +
    "Ratios divide medians measured in this same run.";
  const sections = [
    ["# Benchmark results", "", intro],
    machineSection(run),
    summarySection(run, chartFile),
    ceilingSection(run),
    operationsSection(run),
    startupSection(run),
    checksSection(run),
    methodSection(run),
  ];
  return sections.map((lines) => lines.join("\n")).join("\n\n") + "\n";
}

const COLORS = {
  "wasm-xent": "#1b7837",
  "wasm-xent (scalar)": "#7fbf7b",
  "wasm-xent (inputBuffer)": "#5aae61",
  "onnxruntime-node": "#2166ac",
  "tfjs-backend-wasm": "#d6604d",
  "tfjs-backend-cpu": "#f4a582",
  "plain JS": "#8073ac",
  memoryStream: "#444444",
  computeStream: "#999999",
};

const escapeXml = (s) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/**
 * Draws grouped bars of median throughput per shape for one operation,
 * on a log scale, with the two streamed ceilings as the last bars.
 */
function chart(op, results, implementations) {
  const series = [
    ...peersOf(op, results, implementations).map((name) => ({
      name,
      color: COLORS[name],
      value: (r) => r.operations[op.id]?.[name]?.median,
    })),
    {
      name: "ceiling: read+sum, streamed",
      color: COLORS.memoryStream,
      value: (r) => r.ceilings.memoryStream?.median,
    },
    {
      name: "ceiling: exp+sum, streamed",
      color: COLORS.computeStream,
      value: (r) => r.ceilings.computeStream?.median,
    },
  ];
  const groups = results.filter((r) => r.operations[op.id]);
  const values = groups.flatMap((r) => series.map((s) => s.value(r))).filter((v) => v > 0);
  const low = Math.floor(Math.log10(Math.min(...values)));
  const high = Math.ceil(Math.log10(Math.max(...values)));
  const width = 960;
  const height = 480;
  const left = 80;
  const right = 230;
  const top = 50;
  const bottom = 70;
  const plotWidth = width - left - right;
  const plotHeight = height - top - bottom;
  const y = (v) => top + plotHeight * (1 - (Math.log10(v) - low) / (high - low));
  const groupWidth = plotWidth / groups.length;
  const barWidth = (groupWidth * 0.8) / series.length;
  const parts = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
  );
  parts.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  parts.push(
    `<text x="${left}" y="24" font-size="15" font-weight="bold">${escapeXml(op.title)}: median throughput by shape</text>`,
  );
  for (let e = low; e <= high; e++) {
    const yy = y(10 ** e);
    parts.push(`<line x1="${left}" x2="${left + plotWidth}" y1="${yy}" y2="${yy}" stroke="#ddd"/>`);
    parts.push(`<text x="${left - 8}" y="${yy + 4}" text-anchor="end">1e${e}</text>`);
  }
  parts.push(
    `<text transform="translate(20 ${top + plotHeight / 2}) rotate(-90)" text-anchor="middle">throughput (logits per second, log scale)</text>`,
  );
  groups.forEach((r, g) => {
    const x0 = left + g * groupWidth + groupWidth * 0.1;
    series.forEach((s, i) => {
      const v = s.value(r);
      if (!(v > 0)) return;
      const yy = y(v);
      parts.push(
        `<rect x="${(x0 + i * barWidth).toFixed(1)}" y="${yy.toFixed(1)}" width="${(barWidth - 1).toFixed(1)}" height="${(top + plotHeight - yy).toFixed(1)}" fill="${s.color}"><title>${escapeXml(s.name)}: ${giga(v)} G/s</title></rect>`,
      );
    });
    parts.push(
      `<text x="${left + g * groupWidth + groupWidth / 2}" y="${top + plotHeight + 18}" text-anchor="middle">${shapeLabel(r.shape)}</text>`,
    );
  });
  parts.push(
    `<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotHeight}" stroke="black"/>`,
    `<line x1="${left}" x2="${left + plotWidth}" y1="${top + plotHeight}" y2="${top + plotHeight}" stroke="black"/>`,
    `<text x="${left + plotWidth / 2}" y="${height - 24}" text-anchor="middle">input shape [rows, classes] or [batch, time, classes]</text>`,
  );
  series.forEach((s, i) => {
    const yy = top + 10 + i * 20;
    parts.push(
      `<rect x="${left + plotWidth + 20}" y="${yy - 10}" width="12" height="12" fill="${s.color}"/>`,
      `<text x="${left + plotWidth + 38}" y="${yy}">${escapeXml(s.name)}</text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}

/**
 * Writes RESULTS.md and throughput.svg, or RESULTS-quick.md and
 * throughput-quick.svg for a quick run, so that a quick run never replaces
 * the full record.
 */
export async function writeReport(run) {
  const suffix = run.quick ? "-quick" : "";
  const chartFile = `throughput${suffix}.svg`;
  const sparse = run.operations.find((op) => op.id === "sparse-logits");
  writeFileSync(new URL(`RESULTS${suffix}.md`, benchUrl), markdown(run, chartFile));
  writeFileSync(
    new URL(chartFile, benchUrl),
    chart(sparse, run.results, run.implementations),
  );
}
