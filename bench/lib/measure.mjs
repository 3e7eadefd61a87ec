// Times one task with tinybench and turns latencies into throughput.

import { Bench } from "tinybench";

function quantile(sorted, q) {
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below] + (sorted[above] - sorted[below]) * (position - below);
}

/**
 * Runs `fn` in its own Bench (warmup then samples, back to back) and returns
 * throughput in elements per second: the median and the p25/p75 of the
 * per-call rates, from the p50, p75 and p25 latencies.
 * @param {() => unknown} fn - One call of the task; may return a promise.
 * @param {number} elements - Elements processed per call.
 * @param {number} firstCallMs - Duration of an earlier call, to size the run.
 * @param {{time: number, warmupTime: number}} budget - Milliseconds per task.
 *   tinybench 6 stops each phase only when both its time and its iteration
 *   count are reached, so a task whose first call exceeds `time` gets one
 *   warmup call and three samples instead.
 */
export async function measure(name, fn, elements, firstCallMs, budget) {
  const slow = firstCallMs > budget.time;
  const bench = new Bench({
    time: slow ? 0 : budget.time,
    iterations: slow ? 3 : 5,
    warmupTime: slow ? 0 : budget.warmupTime,
    warmupIterations: slow ? 1 : 5,
    retainSamples: true,
    throws: true,
  });
  bench.add(name, fn);
  await bench.run();
  const result = bench.tasks[0].result;
  const samples = [...result.latency.samples].sort((a, b) => a - b);
  const perSecond = (ms) => elements / (ms / 1000);
  return {
    median: perSecond(quantile(samples, 0.5)),
    p25: perSecond(quantile(samples, 0.75)),
    p75: perSecond(quantile(samples, 0.25)),
    medianMs: quantile(samples, 0.5),
    samples: samples.length,
  };
}
