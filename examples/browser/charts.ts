// Canvas drawings of the page: the loss curve, the loss histogram and the
// digit images. Each function redraws its canvas from scratch.

const COLORS = {
  axis: "#8a8f98",
  grid: "#e6e8eb",
  text: "#3b4048",
  batch: "rgba(46, 110, 200, 0.35)",
  train: "#2e6ec8",
  test: "#d9711c",
  correct: "#7aa6de",
  wrong: "#d64545",
};
const FONT = "12px system-ui, sans-serif";

interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * Sizes the canvas backing store to its CSS size times the device pixel
 * ratio, clears it, and returns a context that draws in CSS pixels.
 */
function prepare(canvas: HTMLCanvasElement): {
  context: CanvasRenderingContext2D;
  width: number;
  height: number;
} {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  if (canvas.width !== Math.round(width * ratio))
    canvas.width = Math.round(width * ratio);
  if (canvas.height !== Math.round(height * ratio))
    canvas.height = Math.round(height * ratio);
  const context = canvas.getContext("2d")!;
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  context.clearRect(0, 0, width, height);
  context.font = FONT;
  return { context, width, height };
}

function drawFrame(context: CanvasRenderingContext2D, box: Box): void {
  context.strokeStyle = COLORS.axis;
  context.lineWidth = 1;
  context.beginPath();
  context.moveTo(box.left, box.top);
  context.lineTo(box.left, box.top + box.height);
  context.lineTo(box.left + box.width, box.top + box.height);
  context.stroke();
}

function formatTick(value: number): string {
  if (value >= 1 || value === 0) return String(value);
  return value >= 0.01
    ? value.toFixed(2).replace(/0$/, "")
    : value.toExponential(0);
}

export interface LossCurve {
  /** Passes over the training set that the x axis spans. */
  epochs: number;
  stepsPerEpoch: number;
  /** Loss of each step so far. */
  stepLosses: number[];
  /** Mean training loss of each finished epoch. */
  trainLosses: number[];
  /** Mean test loss after each finished epoch. */
  testLosses: number[];
}

// The loss axis is logarithmic: the first batch loss is ln 10 = 2.30
// (zero weights give a uniform softmax), and later ones are near 0.3.
const LOSS_MIN = 0.05;
const LOSS_MAX = 3;
const LOSS_TICKS = [0.05, 0.1, 0.2, 0.5, 1, 2];

/** Draws batch losses as a thin line and the epoch means as dots. */
export function drawLossCurve(
  canvas: HTMLCanvasElement,
  curve: LossCurve,
): void {
  const { context, width, height } = prepare(canvas);
  const box = { left: 44, top: 12, width: width - 58, height: height - 46 };
  const totalSteps = Math.max(1, curve.epochs * curve.stepsPerEpoch);
  const x = (epoch: number) => box.left + (epoch / curve.epochs) * box.width;
  const y = (loss: number) => {
    const clamped = Math.min(LOSS_MAX, Math.max(LOSS_MIN, loss));
    const fraction =
      Math.log(clamped / LOSS_MIN) / Math.log(LOSS_MAX / LOSS_MIN);
    return box.top + (1 - fraction) * box.height;
  };

  context.fillStyle = COLORS.text;
  context.textAlign = "right";
  context.textBaseline = "middle";
  for (const tick of LOSS_TICKS) {
    context.strokeStyle = COLORS.grid;
    context.beginPath();
    context.moveTo(box.left, y(tick));
    context.lineTo(box.left + box.width, y(tick));
    context.stroke();
    context.fillText(formatTick(tick), box.left - 6, y(tick));
  }
  context.textAlign = "center";
  context.textBaseline = "top";
  const epochStride = Math.max(1, Math.ceil(curve.epochs / 10));
  for (let epoch = 0; epoch <= curve.epochs; epoch += epochStride) {
    context.fillText(String(epoch), x(epoch), box.top + box.height + 6);
  }
  context.fillText(
    "epoch",
    box.left + box.width / 2,
    box.top + box.height + 22,
  );
  drawFrame(context, box);

  context.strokeStyle = COLORS.batch;
  context.lineWidth = 1;
  context.beginPath();
  curve.stepLosses.forEach((loss, step) => {
    const px = box.left + ((step + 1) / totalSteps) * box.width;
    if (step === 0) context.moveTo(px, y(loss));
    else context.lineTo(px, y(loss));
  });
  context.stroke();

  for (const [losses, color] of [
    [curve.trainLosses, COLORS.train],
    [curve.testLosses, COLORS.test],
  ] as const) {
    context.strokeStyle = color;
    context.fillStyle = color;
    context.lineWidth = 2;
    context.beginPath();
    losses.forEach((loss, i) => {
      if (i === 0) context.moveTo(x(i + 1), y(loss));
      else context.lineTo(x(i + 1), y(loss));
    });
    context.stroke();
    for (const [i, loss] of losses.entries()) {
      context.beginPath();
      context.arc(x(i + 1), y(loss), 3, 0, 2 * Math.PI);
      context.fill();
    }
  }
}

export interface LossHistogram {
  /** Lower edge of each bin; the last bin has no upper edge. */
  edges: readonly number[];
  /** Digits the model classifies correctly, per bin. */
  correct: readonly number[];
  /** Misclassified digits, per bin, stacked on top of `correct`. */
  wrong: readonly number[];
  /** Mean loss, marked with a vertical line. */
  mean: number;
}

/**
 * Draws stacked bars over a logarithmic loss axis. The first bin,
 * [0, edges[1]), gets a bar of the same width at the left end.
 */
export function drawHistogram(
  canvas: HTMLCanvasElement,
  histogram: LossHistogram,
): void {
  const { context, width, height } = prepare(canvas);
  const box = { left: 44, top: 12, width: width - 58, height: height - 46 };
  const { edges, correct, wrong } = histogram;
  const bins = edges.length;
  const barWidth = box.width / bins;
  const maxCount = Math.max(1, ...correct.map((count, i) => count + wrong[i]));
  const y = (count: number) => box.top + box.height * (1 - count / maxCount);
  // Bin i spans [i, i + 1) in bar units. On the log axis, loss L sits at
  // 1 + log(L / edges[1]) / log(edges[2] / edges[1]).
  const step = Math.log(edges[2] / edges[1]);
  const xOfLoss = (loss: number) =>
    box.left + barWidth * (1 + Math.log(loss / edges[1]) / step);

  context.fillStyle = COLORS.text;
  context.textAlign = "right";
  context.textBaseline = "middle";
  const countStride =
    10 ** Math.floor(Math.log10(maxCount)) / (maxCount < 200 ? 2 : 1);
  for (let count = 0; count <= maxCount; count += countStride) {
    context.strokeStyle = COLORS.grid;
    context.beginPath();
    context.moveTo(box.left, y(count));
    context.lineTo(box.left + box.width, y(count));
    context.stroke();
    context.fillText(String(count), box.left - 6, y(count));
  }

  for (let bin = 0; bin < bins; bin++) {
    const left = box.left + bin * barWidth + 1;
    context.fillStyle = COLORS.correct;
    context.fillRect(
      left,
      y(correct[bin]),
      barWidth - 2,
      box.top + box.height - y(correct[bin]),
    );
    context.fillStyle = COLORS.wrong;
    context.fillRect(
      left,
      y(correct[bin] + wrong[bin]),
      barWidth - 2,
      y(correct[bin]) - y(correct[bin] + wrong[bin]),
    );
  }

  context.fillStyle = COLORS.text;
  context.textAlign = "center";
  context.textBaseline = "top";
  const below = `<${formatTick(edges[1])}`;
  context.fillText(below, box.left + barWidth / 2, box.top + box.height + 6);
  for (
    let exponent = Math.ceil(Math.log10(edges[1]));
    10 ** exponent <= edges[bins - 1];
    exponent++
  ) {
    const loss = 10 ** exponent;
    if (exponent > Math.log10(edges[1])) {
      context.fillText(
        formatTick(loss),
        xOfLoss(loss),
        box.top + box.height + 6,
      );
    }
  }
  context.fillText(
    "loss of one test digit (log scale)",
    box.left + box.width / 2,
    box.top + box.height + 22,
  );

  context.strokeStyle = COLORS.text;
  context.setLineDash([4, 3]);
  context.beginPath();
  context.moveTo(xOfLoss(histogram.mean), box.top);
  context.lineTo(xOfLoss(histogram.mean), box.top + box.height);
  context.stroke();
  context.setLineDash([]);
  context.textAlign = "left";
  context.fillText(
    `mean ${histogram.mean.toFixed(3)}`,
    xOfLoss(histogram.mean) + 4,
    box.top,
  );
  drawFrame(context, box);
}

/** Draws a 28x28 image with pixels in [0, 1] as white ink on black. */
export function drawDigit(
  canvas: HTMLCanvasElement,
  pixels: Float32Array,
): void {
  canvas.width = 28;
  canvas.height = 28;
  const context = canvas.getContext("2d")!;
  const image = context.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const level = Math.round(255 * pixels[i]);
    image.data[4 * i] = level;
    image.data[4 * i + 1] = level;
    image.data[4 * i + 2] = level;
    image.data[4 * i + 3] = 255;
  }
  context.putImageData(image, 0, 0);
}
