// Float64 reference of every benchmarked operation, written from the
// formulas alone so that it shares no code with the library or the peers.
// Each function takes flat row-major arrays with `classes` values per row and
// returns a Float64Array (losses) or { loss, grad } (grad of sum(losses)).

const EPSILON = 1e-7;

function rowMax(x, start, classes) {
  let max = -Infinity;
  for (let j = 0; j < classes; j++) max = Math.max(max, x[start + j]);
  return max;
}

function rowLogSumExp(x, start, classes) {
  const max = rowMax(x, start, classes);
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (let j = 0; j < classes; j++) sum += Math.exp(x[start + j] - max);
  return max + Math.log(sum);
}

export function logSumExp(x, rows, classes) {
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) out[i] = rowLogSumExp(x, i * classes, classes);
  return out;
}

/** Loss and gradient of -log softmax(z)[label]; masked rows (mask 0) give 0. */
export function sparseFromLogits(z, labels, rows, classes, mask, withGrad) {
  const loss = new Float64Array(rows);
  const grad = withGrad ? new Float64Array(rows * classes) : null;
  for (let i = 0; i < rows; i++) {
    if (mask && mask[i] === 0) continue;
    const start = i * classes;
    const lse = rowLogSumExp(z, start, classes);
    loss[i] = lse - z[start + labels[i]];
    if (grad) {
      for (let j = 0; j < classes; j++) {
        grad[start + j] = Math.exp(z[start + j] - lse);
      }
      grad[start + labels[i]] -= 1;
    }
  }
  return { loss, grad };
}

/** Loss and gradient of -sum_c y_c log softmax(z)_c. */
export function categoricalFromLogits(z, y, rows, classes, withGrad) {
  const loss = new Float64Array(rows);
  const grad = withGrad ? new Float64Array(rows * classes) : null;
  for (let i = 0; i < rows; i++) {
    const start = i * classes;
    const lse = rowLogSumExp(z, start, classes);
    let sum = 0;
    let targetSum = 0;
    for (let j = 0; j < classes; j++) {
      const t = y[start + j];
      if (t !== 0) sum += t * (lse - z[start + j]);
      targetSum += t;
    }
    loss[i] = sum;
    if (grad) {
      for (let j = 0; j < classes; j++) {
        const p = Math.exp(z[start + j] - lse);
        grad[start + j] = p * targetSum - y[start + j];
      }
    }
  }
  return { loss, grad };
}

/**
 * Keras crossentropy from probabilities: each row divided by its sum, then
 * clipped to [1e-7, 1 - 1e-7]. `target` is a class id per row when `sparse`.
 */
export function fromProbabilities(p, target, rows, classes, sparse) {
  const loss = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const start = i * classes;
    let rowSum = 0;
    for (let j = 0; j < classes; j++) rowSum += p[start + j];
    const clippedLog = (j) =>
      Math.log(Math.min(Math.max(p[start + j] / rowSum, EPSILON), 1 - EPSILON));
    if (sparse) {
      loss[i] = -clippedLog(target[i]);
    } else {
      let sum = 0;
      for (let j = 0; j < classes; j++) {
        const t = target[start + j];
        if (t !== 0) sum -= t * clippedLog(j);
      }
      loss[i] = sum;
    }
  }
  return loss;
}

/**
 * Focal crossentropy from logits, -sum_c alpha (1 - p_c)^gamma y_c log p_c,
 * with p = softmax(z) and log p from the log-softmax. Sparse when `target`
 * holds one class id per row. The gradient, with
 * k_c = alpha y_c (gamma (1 - p_c)^(gamma - 1) p_c log p_c - (1 - p_c)^gamma),
 * is dL/dz_j = k_j - p_j sum_c k_c.
 */
export function focalFromLogits(z, target, rows, classes, sparse, alpha, gamma, withGrad) {
  const loss = new Float64Array(rows);
  const grad = withGrad ? new Float64Array(rows * classes) : null;
  const targetOf = sparse
    ? (i, j) => (target[i] === j ? 1 : 0)
    : (i, j) => target[i * classes + j];
  for (let i = 0; i < rows; i++) {
    const start = i * classes;
    const lse = rowLogSumExp(z, start, classes);
    let sum = 0;
    let kSum = 0;
    for (let j = 0; j < classes; j++) {
      const y = targetOf(i, j);
      if (y === 0) continue;
      const logP = z[start + j] - lse;
      const p = Math.exp(logP);
      sum -= alpha * Math.pow(1 - p, gamma) * y * logP;
      if (grad) {
        const k =
          alpha * y *
          (gamma * Math.pow(1 - p, gamma - 1) * p * logP - Math.pow(1 - p, gamma));
        grad[start + j] = k;
        kSum += k;
      }
    }
    loss[i] = sum;
    if (grad) {
      for (let j = 0; j < classes; j++) {
        grad[start + j] -= Math.exp(z[start + j] - lse) * kSum;
      }
    }
  }
  return { loss, grad };
}
