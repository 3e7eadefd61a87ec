// Measures import-to-first-result time and resident memory of each
// implementation, each in a fresh Node process.

import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const child = fileURLToPath(new URL("./startup-child.mjs", import.meta.url));

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/**
 * Runs `repeats` fresh processes per implementation, in rotation, and returns
 * per name the median milliseconds and the median RSS in bytes over the
 * median RSS of a process that imports nothing ("bare Node").
 * @param {string[]} names - Implementations, from startup-child.mjs.
 */
export function measureStartup(names, repeats) {
  const all = ["bare Node", ...names];
  const runs = Object.fromEntries(all.map((n) => [n, []]));
  for (let r = 0; r < repeats; r++) {
    for (const name of all) {
      try {
        const line = execFileSync(process.execPath, [child, name], {
          encoding: "utf8",
          stdio: ["ignore", "pipe", "pipe"],
        });
        runs[name].push(JSON.parse(line.trim().split("\n").pop()));
      } catch (error) {
        runs[name].push({ error: String(error.stderr || error.message).split("\n")[0] });
      }
    }
  }
  const bareRss = median(runs["bare Node"].map((r) => r.rss));
  return all.map((name) => {
    const ok = runs[name].filter((r) => r.error === undefined);
    if (ok.length === 0) return { name, error: runs[name][0].error };
    return {
      name,
      ms: median(ok.map((r) => r.ms)),
      rss: median(ok.map((r) => r.rss)),
      rssOverBare: median(ok.map((r) => r.rss)) - bareRss,
    };
  });
}
