// Benchmarks wasm-xent against its JavaScript peers and two hardware
// ceilings in one run, and writes RESULTS.md and throughput.svg.
//
//   node run.mjs           all operations and shapes (under 10 minutes)
//   node run.mjs --quick   three operations on two shapes (under a minute)
//
// Every implementation is checked against a float64 reference before it is
// timed. Throughput is logits (input elements) per second, end to end from
// Float32Array inputs to Float32Array outputs.

import { register } from "node:module";
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import os from "node:os";

import { makeData } from "./lib/data.mjs";
import { OPERATIONS, check } from "./lib/operations.mjs";
import {
  plainJsAdapters,
  wasmXentAdapters,
  wasmXentInPlaceAdapters,
  onnxRuntimeAdapters,
  tfjsAdapters,
} from "./lib/peers.mjs";
import * as onnxModels from "./lib/onnx-model.mjs";
import {
  compileCeilings,
  loadCeilings,
  ceilingTasks,
  measureExpError,
  CHUNK_FLOATS,
} from "./lib/ceilings.mjs";
import { measure } from "./lib/measure.mjs";
import { measureStartup } from "./lib/startup.mjs";
import { writeReport } from "./lib/report.mjs";

// Loads the tfjs-core gradient registrations; must precede importing tfjs.
register("./lib/tfjs-gradients-hook.mjs", import.meta.url);

const { values: args } = parseArgs({
  options: { quick: { type: "boolean", default: false } },
});
const quick = args.quick;

const ALL_SHAPES = [
  [4096, 10],
  [1024, 1000],
  [256, 32000],
  [16, 128256],
  [8, 512, 32000],
];
const QUICK_SHAPES = [
  [4096, 10],
  [1024, 1000],
];
const QUICK_OPERATIONS = ["sparse-logits", "log-sum-exp", "sparse-logits-grad"];

const shapes = quick ? QUICK_SHAPES : ALL_SHAPES;
const operations = quick
  ? OPERATIONS.filter((op) => QUICK_OPERATIONS.includes(op.id))
  : OPERATIONS;
// maxCallMs: a task whose first two calls each take longer is not sampled
// further; its second call is reported instead. skipCallMs: an implementation
// whose earlier throughput on this operation predicts a longer call is
// skipped on the larger shapes.
const budget = quick
  ? { time: 60, warmupTime: 40, maxCallMs: 400, skipCallMs: 2000 }
  : { time: 350, warmupTime: 200, maxCallMs: 3000, skipCallMs: 12000 };
const startupRepeats = quick ? 1 : 5;

/** Display order of implementations in tables and the chart. */
export const IMPLEMENTATIONS = [
  "wasm-xent",
  "wasm-xent (scalar)",
  "wasm-xent (inputBuffer)",
  "onnxruntime-node",
  "tfjs-backend-wasm",
  "tfjs-backend-cpu",
  "plain JS",
];

const started = Date.now();
const loadAtStart = os.loadavg();
const elapsed = () => ((Date.now() - started) / 1000).toFixed(1).padStart(6);
const log = (...parts) => console.error(`${elapsed()} s`, ...parts);

async function loadImplementations() {
  const implementations = {};
  const notes = {};
  const dist = new URL("../dist/index.js", import.meta.url);
  if (existsSync(dist)) {
    const library = await import(dist.href);
    implementations["wasm-xent"] = wasmXentAdapters(library);
    implementations["wasm-xent (inputBuffer)"] = wasmXentInPlaceAdapters(library);
  } else {
    notes["wasm-xent"] = "not built: run `npm run build` in the repository root";
  }
  // NOTE: the scalar build is benchmarked when the root build emits
  // dist/scalar.js with the same exports as dist/index.js.
  const scalar = new URL("../dist/scalar.js", import.meta.url);
  if (existsSync(scalar)) {
    implementations["wasm-xent (scalar)"] = wasmXentAdapters(await import(scalar.href));
  } else {
    notes["wasm-xent (scalar)"] = "no scalar build exported by the library";
  }
  const ort = await import("onnxruntime-node");
  implementations["onnxruntime-node"] = onnxRuntimeAdapters(ort, onnxModels);
  const tf = await import("@tensorflow/tfjs-core");
  await import("@tensorflow/tfjs-core/dist/register_all_gradients.js");
  await import("@tensorflow/tfjs-backend-cpu");
  await import("@tensorflow/tfjs-backend-wasm");
  tf.env().set("PROD", true);
  implementations["tfjs-backend-wasm"] = tfjsAdapters(tf, "wasm");
  implementations["tfjs-backend-cpu"] = tfjsAdapters(tf, "cpu");
  implementations["plain JS"] = plainJsAdapters();
  await tf.setBackend("wasm");
  const wasmThreads = await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT");
  const wasmSimd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
  notes.tfjsWasm = `tfjs-backend-wasm SIMD ${wasmSimd ? "on" : "off"}, threads ${wasmThreads ? "on" : "off"}`;
  return { implementations, notes };
}

async function timeCeilings(ceilings, data) {
  const tasks = ceilingTasks(ceilings, data.logits);
  const results = {};
  for (const [name, task] of Object.entries(tasks)) {
    task.fill();
    const start = performance.now();
    task.run();
    const firstCallMs = performance.now() - start;
    results[name] = await measure(name, task.run, data.elements, firstCallMs, budget);
  }
  return results;
}

function singleCall(elements, ms) {
  const rate = elements / (ms / 1000);
  return { median: rate, p25: rate, p75: rate, medianMs: ms, samples: 1, single: true };
}

/** Median throughput of each implementation on each operation so far. */
const lastThroughput = new Map();

async function timeOperation(op, data, implementations) {
  const expected = op.reference(data);
  log("  float64 reference done");
  const results = {};
  for (const name of IMPLEMENTATIONS) {
    const adapter = implementations[name]?.[op.id];
    if (!adapter) continue;
    const previous = lastThroughput.get(`${name} ${op.id}`);
    const predictedMs = previous ? (1000 * data.elements) / previous : 0;
    if (predictedMs > budget.skipCallMs) {
      results[name] = { skipped: `skipped: about ${(predictedMs / 1000).toFixed(0)} s per call` };
      log(`  ${name.padEnd(20)} ${results[name].skipped}`);
      continue;
    }
    try {
      const call = await adapter(data);
      const start = performance.now();
      const first = await call();
      const firstCallMs = performance.now() - start;
      const verdict = check(first, expected);
      if (!verdict.ok) {
        log(`  ${name}: check failed, max error ${verdict.maxError} ${verdict.detail}`);
      }
      // A slow first call may be paying for one-time allocation or
      // compilation, so a second call decides whether to sample further.
      let callMs = firstCallMs;
      if (callMs > budget.maxCallMs) {
        const again = performance.now();
        await call();
        callMs = performance.now() - again;
      }
      const timing =
        callMs > budget.maxCallMs
          ? singleCall(data.elements, callMs)
          : await measure(name, call, data.elements, callMs, budget);
      results[name] = { ...timing, check: verdict };
      lastThroughput.set(`${name} ${op.id}`, timing.median);
      log(
        `  ${name.padEnd(20)} ${(timing.median / 1e9).toFixed(3)} G/s` +
          ` (${timing.samples} samples)${verdict.ok ? "" : "  CHECK FAILED"}`,
      );
    } catch (error) {
      results[name] = { error: String(error.message ?? error).split("\n")[0] };
      log(`  ${name}: ${results[name].error}`);
    }
  }
  return results;
}

const { implementations, notes } = await loadImplementations();
compileCeilings();
const largest = Math.max(...shapes.map((s) => s.reduce((a, b) => a * b, 1)));
const ceilings = loadCeilings(largest * 4);
const expError = measureExpError(ceilings, quick ? 1 << 20 : 1 << 24);
log(`vector exp: max relative error ${expError.maxRelative.toExponential(2)}`);

const results = [];
for (const shape of shapes) {
  const shapeOps = operations.filter((op) => shape.length === 2 || op.tokenLevel);
  const needs = {
    oneHot: shapeOps.some((op) => op.needs.oneHot),
    probabilities: shapeOps.some((op) => op.needs.probabilities),
  };
  const data = makeData(shape, needs);
  log(`[${shape}] ceilings`);
  const ceilingResults = await timeCeilings(ceilings, data);
  for (const [name, r] of Object.entries(ceilingResults)) {
    log(`  ${name.padEnd(20)} ${(r.median / 1e9).toFixed(3)} G/s`);
  }
  const opResults = {};
  for (const op of shapeOps) {
    log(`[${shape}] ${op.id}`);
    opResults[op.id] = await timeOperation(op, data, implementations);
  }
  // Other processes can slow any one measurement, so each ceiling is
  // measured again after the operations and the faster median is kept.
  log(`[${shape}] ceilings again`);
  const ceilingsAfter = await timeCeilings(ceilings, data);
  for (const [name, r] of Object.entries(ceilingsAfter)) {
    log(`  ${name.padEnd(20)} ${(r.median / 1e9).toFixed(3)} G/s`);
    if (r.median > ceilingResults[name].median) ceilingResults[name] = r;
  }
  results.push({ shape, elements: data.elements, ceilings: ceilingResults, operations: opResults });
}

log("start-up");
const startup = measureStartup(
  ["plain JS", "wasm-xent", "onnxruntime-node", "tfjs-backend-wasm", "tfjs-backend-cpu"],
  startupRepeats,
);

await writeReport({
  quick,
  budget,
  chunkFloats: CHUNK_FLOATS,
  expError,
  notes,
  operations,
  results,
  startup,
  startupRepeats,
  loadAtStart,
  implementations: IMPLEMENTATIONS,
  elapsedSeconds: (Date.now() - started) / 1000,
});
log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
