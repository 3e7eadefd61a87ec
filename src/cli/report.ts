// Text and JSON renderings of a score result.

import type { ScoreResult } from "./score.js";

/** Formats a statistic with 7 significant digits, about the precision of a float32 loss. */
function formatStatistic(value: number): string {
  if (Number.isNaN(value)) return "n/a";
  if (!Number.isFinite(value) || Number.isInteger(value)) return String(value);
  return String(Number(value.toPrecision(7)));
}

function formatShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/** Renders the summary as aligned text lines for a terminal. */
export function formatSummaryText(result: ScoreResult): string {
  const lines: string[] = [];
  const kind =
    result.labelKind === "sparse" ? "sparse categorical" : "categorical";
  lines.push(
    `pred            ${result.predPath}  ${formatShape(result.predShape)}`,
  );
  lines.push(
    `labels          ${result.labelsPath}  ${formatShape(result.labelsShape)}  ` +
      (result.labelKind === "sparse" ? "class ids" : "target rows"),
  );
  lines.push(
    `loss            ${kind} ${result.loss}, ${result.lossCount} losses of shape ${formatShape(result.lossShape)}`,
  );
  lines.push(`included        ${result.count} of ${result.lossCount}`);
  const statistics: [string, number][] = [
    ["sum", result.sum],
    ["mean", result.mean],
    ["weighted mean", result.weightedMean],
    ["min", result.min],
    ["p50", result.p50],
    ["p90", result.p90],
    ["p99", result.p99],
    ["max", result.max],
  ];
  for (const [name, value] of statistics) {
    lines.push(`${name.padEnd(16)}${formatStatistic(value)}`);
  }
  if (result.reduced !== undefined) {
    const value =
      typeof result.reduced === "number"
        ? formatStatistic(result.reduced)
        : `sum ${formatStatistic(result.reduced.sum)}, count ${result.reduced.count}, ` +
          `weightSum ${formatStatistic(result.reduced.weightSum)}`;
    // Names such as mean_with_sample_weight are longer than the column.
    lines.push(`${`reduction ${result.reduction}`.padEnd(15)} ${value}`);
  }

  if (result.top.length > 0) {
    lines.push("");
    lines.push(`top ${result.top.length} losses`);
    const rows = result.top.map((entry) => [
      entry.position.join(","),
      String(entry.label),
      String(entry.predicted),
      formatStatistic(entry.loss),
    ]);
    const header = ["index", "label", "predicted", "loss"];
    const widths = header.map((title, column) =>
      Math.max(title.length, ...rows.map((row) => row[column].length)),
    );
    for (const row of [header, ...rows]) {
      lines.push(
        "  " +
          row.map((cell, column) => cell.padStart(widths[column])).join("  "),
      );
    }
  }
  return lines.join("\n") + "\n";
}

/** Renders the summary as one JSON object; NaN becomes null. */
export function formatSummaryJson(result: ScoreResult): string {
  const { seconds, ...rest } = result;
  return (
    JSON.stringify({ ...rest, seconds: Number(seconds.toFixed(3)) }) + "\n"
  );
}
