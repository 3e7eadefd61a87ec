// The plain JavaScript peer: float32 arrays in and out, two passes per row
// (max, then the shifted exp-sum), float64 accumulators and preallocated
// outputs, as a careful JavaScript programmer would write it.

function rowMax(z, start, end) {
  let m0 = -Infinity;
  let m1 = -Infinity;
  let j = start;
  for (; j + 1 < end; j += 2) {
    const a = z[j];
    const b = z[j + 1];
    if (a > m0) m0 = a;
    if (b > m1) m1 = b;
  }
  if (j < end && z[j] > m0) m0 = z[j];
  return m0 > m1 ? m0 : m1;
}

function rowLogSumExp(z, start, end) {
  const max = rowMax(z, start, end);
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (let j = start; j < end; j++) sum += Math.exp(z[j] - max);
  return max + Math.log(sum);
}

export function logSumExp(z, rows, classes, out) {
  for (let i = 0, s = 0; i < rows; i++, s += classes) {
    out[i] = rowLogSumExp(z, s, s + classes);
  }
  return out;
}

export function sparseFromLogits(z, labels, rows, classes, mask, out) {
  for (let i = 0, s = 0; i < rows; i++, s += classes) {
    if (mask !== null && mask[i] === 0) {
      out[i] = 0;
      continue;
    }
    out[i] = rowLogSumExp(z, s, s + classes) - z[s + labels[i]];
  }
  return out;
}

/** Writes losses to `out` and the gradient of their sum to `grad`. */
export function sparseFromLogitsWithGrad(z, labels, rows, classes, mask, out, grad) {
  for (let i = 0, s = 0; i < rows; i++, s += classes) {
    const end = s + classes;
    if (mask !== null && mask[i] === 0) {
      out[i] = 0;
      grad.fill(0, s, end);
      continue;
    }
    const lse = rowLogSumExp(z, s, end);
    out[i] = lse - z[s + labels[i]];
    for (let j = s; j < end; j++) grad[j] = Math.exp(z[j] - lse);
    grad[s + labels[i]] -= 1;
  }
  return out;
}

export function categoricalFromLogits(z, y, rows, classes, out) {
  for (let i = 0, s = 0; i < rows; i++, s += classes) {
    const end = s + classes;
    const lse = rowLogSumExp(z, s, end);
    let sum = 0;
    for (let j = s; j < end; j++) sum += y[j] * (lse - z[j]);
    out[i] = sum;
  }
  return out;
}

export function categoricalFromLogitsWithGrad(z, y, rows, classes, out, grad) {
  for (let i = 0, s = 0; i < rows; i++, s += classes) {
    const end = s + classes;
    const lse = rowLogSumExp(z, s, end);
    let sum = 0;
    let targetSum = 0;
    for (let j = s; j < end; j++) {
      sum += y[j] * (lse - z[j]);
      targetSum += y[j];
    }
    out[i] = sum;
    for (let j = s; j < end; j++) grad[j] = Math.exp(z[j] - lse) * targetSum - y[j];
  }
  return out;
}

const LOW = 1e-7;
const HIGH = 1 - 1e-7;

/** Keras from-probabilities crossentropy; `target` is a class id per row when `sparse`. */
export function fromProbabilities(p, target, rows, classes, sparse, out) {
  for (let i = 0, s = 0; i < rows; i++, s += classes) {
    const end = s + classes;
    let rowSum = 0;
    for (let j = s; j < end; j++) rowSum += p[j];
    if (sparse) {
      const q = p[s + target[i]] / rowSum;
      out[i] = -Math.log(q < LOW ? LOW : q > HIGH ? HIGH : q);
      continue;
    }
    let sum = 0;
    for (let j = s; j < end; j++) {
      const t = target[j];
      if (t === 0) continue;
      const q = p[j] / rowSum;
      sum -= t * Math.log(q < LOW ? LOW : q > HIGH ? HIGH : q);
    }
    out[i] = sum;
  }
  return out;
}

/**
 * Focal crossentropy from logits; with `grad` also its gradient
 * dL/dz_j = k_j - p_j sum_c k_c, where
 * k_c = alpha y_c (gamma (1 - p_c)^(gamma - 1) p_c log p_c - (1 - p_c)^gamma).
 * Sparse when `target` holds one class id per row.
 */
export function focalFromLogits(z, target, rows, classes, sparse, alpha, gamma, out, grad) {
  for (let i = 0, s = 0; i < rows; i++, s += classes) {
    const end = s + classes;
    const lse = rowLogSumExp(z, s, end);
    let sum = 0;
    let kSum = 0;
    if (grad !== null) grad.fill(0, s, end);
    const first = sparse ? s + target[i] : s;
    const last = sparse ? first + 1 : end;
    for (let j = first; j < last; j++) {
      const y = sparse ? 1 : target[j];
      if (y === 0) continue;
      const logP = z[j] - lse;
      const p = Math.exp(logP);
      const q = 1 - p;
      const qPow = Math.pow(q, gamma);
      sum -= alpha * qPow * y * logP;
      if (grad !== null) {
        const k = alpha * y * (gamma * Math.pow(q, gamma - 1) * p * logP - qPow);
        grad[j] = k;
        kSum += k;
      }
    }
    out[i] = sum;
    if (grad !== null && kSum !== 0) {
      for (let j = s; j < end; j++) grad[j] -= Math.exp(z[j] - lse) * kSum;
    }
  }
  return out;
}
