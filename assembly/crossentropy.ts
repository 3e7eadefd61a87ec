import {
  rowLogSumExp,
  SCRATCH_LOG_SUM,
  SCRATCH_REFERENCE,
} from "./inline/log-sum-exp-pass";
import { addWide, clearWide, loadTail, storeTail, totalWide } from "./inline/memory";
import { vexp, vlog } from "./inline/vmath";
import {
  LANE_CLASSES,
  LANE_COLUMNS,
  LANE_EXACT,
  LANE_FACTORS,
  LANE_RESULTS,
  LANE_SCRATCH_BYTES,
  LANE_SHIFT,
  LANE_SPECIAL,
  LANE_SUM,
  LANE_TARGETS,
  laneLogSum,
} from "./inline/lanes";

// Crossentropy of `rows` rows of `classes` contiguous f32 values, with the
// loss and the gradient of each row fused.
//
// A row's loss is sum_c a_c * phi(l_c), where l_c = log p_c and
//   a_c = classWeight_c * alpha_c * target_c,  target_c = y_c (1 - s) + s / C
// (s is the label smoothing, alpha is 1 unless focal), and
//   phi(l) = -l                     for crossentropy,
//   phi(l) = -(1 - p)^gamma * l     for focal crossentropy.
// From logits, l_c = z_c - lse(z). From probabilities, p_c is the row divided
// by its sum and clipped to [CLIP_LOW, CLIP_HIGH]. Terms with a_c = 0 are
// skipped, so 0 * log 0 counts as 0.

/** Success. */
export const STATUS_OK: i32 = 0;
/** A probability is negative, NaN or infinite; its row index is stored in totals[3]. */
export const STATUS_INVALID_PROBABILITY: i32 = 1;
/** A class id is at least `classes`; its row index is stored in totals[3]. */
export const STATUS_LABEL_OUT_OF_RANGE: i32 = 2;

// Keras clips probabilities to [epsilon, 1 - epsilon] with epsilon = 1e-7 in
// f32, which makes the upper bound 0.99999988.
const CLIP_LOW: f32 = 1e-7;
const CLIP_HIGH: f32 = 1 - CLIP_LOW;

// Scratch layout past the log-sum-exp pass's first 64 bytes.
const SCRATCH_LOSS: usize = 64; // wide sum of the loss terms
const SCRATCH_DERIVATIVE: usize = 96; // wide sum D of the derivative terms
const SCRATCH_WEIGHT: usize = 128; // wide sum of classWeight_c * y_c

/** Bytes of scratch memory the kernels in this file need, 16-byte aligned. */
export const SCRATCH_BYTES: i32 = LANE_SCRATCH_BYTES;

/**
 * Computes the crossentropy of each row and adds the reductions' totals.
 * The arguments are the same for every variant below.
 *
 * - `losses` (out, f32 per row): sampleWeight * loss, and 0 for skipped rows.
 * - `grad` (out, f32 per value, WithGradient variants): d(sum_row scale * loss)/dx.
 * - `totals` (in/out, f64): [0] += sum of weighted losses, [1] += rows
 *   included, [2] += sum of sampleWeight * classWeight of the row.
 * - `x` (f32 per value): logits or probabilities.
 * - `targets` (f32 per value, Dense variants): target rows.
 * - `labels` (i32 per row): the class id, or any value >= 0 for Dense; a
 *   negative value skips the row, which is then never read.
 * - `sampleWeights` (f32 per row, or 0 for all ones); `scales` (f32 per
 *   row, WithGradient variants): the factor of the row's gradient.
 * - `classWeights`, `alpha` (f32 per class): always present, ones when
 *   unused.
 *
 * Returns STATUS_OK or an error status.
 *
 * Each combination of target form, input, loss and gradient is its own
 * export, named for example `focalDenseLogitsWithGradient`, so that no
 * inner loop tests a flag and an engine that compiles lazily compiles only
 * the variants a program calls.
 */
export function crossentropySparseLogits(losses: usize, grad: usize, totals: usize, x: usize, targets: usize, labels: usize, sampleWeights: usize, scales: usize, classWeights: usize, alpha: usize, rows: i32, classes: i32, smoothing: f32, gamma: f32, scratch: usize): i32 {
  return crossentropyRows(losses, grad, totals, x, targets, labels, sampleWeights, scales, classWeights, alpha, rows, classes, smoothing, gamma, scratch, true, false, false, false);
}

export function crossentropySparseLogitsWithGradient(losses: usize, grad: usize, totals: usize, x: usize, targets: usize, labels: usize, sampleWeights: usize, scales: usize, classWeights: usize, alpha: usize, rows: i32, classes: i32, smoothing: f32, gamma: f32, scratch: usize): i32 {
  return crossentropyRows(losses, grad, totals, x, targets, labels, sampleWeights, scales, classWeights, alpha, rows, classes, smoothing, gamma, scratch, true, false, false, true);
}

export function crossentropySparseProbabilities(losses: usize, grad: usize, totals: usize, x: usize, targets: usize, labels: usize, sampleWeights: usize, scales: usize, classWeights: usize, alpha: usize, rows: i32, classes: i32, smoothing: f32, gamma: f32, scratch: usize): i32 {
  return crossentropyRows(losses, grad, totals, x, targets, labels, sampleWeights, scales, classWeights, alpha, rows, classes, smoothing, gamma, scratch, false, false, false, false);
}

export function crossentropySparseProbabilitiesWithGradient(losses: usize, grad: usize, totals: usize, x: usize, targets: usize, labels: usize, sampleWeights: usize, scales: usize, classWeights: usize, alpha: usize, rows: i32, classes: i32, smoothing: f32, gamma: f32, scratch: usize): i32 {
  return crossentropyRows(losses, grad, totals, x, targets, labels, sampleWeights, scales, classWeights, alpha, rows, classes, smoothing, gamma, scratch, false, false, false, true);
}

export function crossentropyDenseLogits(losses: usize, grad: usize, totals: usize, x: usize, targets: usize, labels: usize, sampleWeights: usize, scales: usize, classWeights: usize, alpha: usize, rows: i32, classes: i32, smoothing: f32, gamma: f32, scratch: usize): i32 {
  return crossentropyRows(losses, grad, totals, x, targets, labels, sampleWeights, scales, classWeights, alpha, rows, classes, smoothing, gamma, scratch, true, false, true, false);
}

export function crossentropyDenseLogitsWithGradient(losses: usize, grad: usize, totals: usize, x: usize, targets: usize, labels: usize, sampleWeights: usize, scales: usize, classWeights: usize, alpha: usize, rows: i32, classes: i32, smoothing: f32, gamma: f32, scratch: usize): i32 {
  return crossentropyRows(losses, grad, totals, x, targets, labels, sampleWeights, scales, classWeights, alpha, rows, classes, smoothing, gamma, scratch, true, false, true, true);
}

export function crossentropyDenseProbabilities(losses: usize, grad: usize, totals: usize, x: usize, targets: usize, labels: usize, sampleWeights: usize, scales: usize, classWeights: usize, alpha: usize, rows: i32, classes: i32, smoothing: f32, gamma: f32, scratch: usize): i32 {
  return crossentropyRows(losses, grad, totals, x, targets, labels, sampleWeights, scales, classWeights, alpha, rows, classes, smoothing, gamma, scratch, false, false, true, false);
}

export function crossentropyDenseProbabilitiesWithGradient(losses: usize, grad: usize, totals: usize, x: usize, targets: usize, labels: usize, sampleWeights: usize, scales: usize, classWeights: usize, alpha: usize, rows: i32, classes: i32, smoothing: f32, gamma: f32, scratch: usize): i32 {
  return crossentropyRows(losses, grad, totals, x, targets, labels, sampleWeights, scales, classWeights, alpha, rows, classes, smoothing, gamma, scratch, false, false, true, true);
}

export function focalSparseLogits(losses: usize, grad: usize, totals: usize, x: usize, targets: usize, labels: usize, sampleWeights: usize, scales: usize, classWeights: usize, alpha: usize, rows: i32, classes: i32, smoothing: f32, gamma: f32, scratch: usize): i32 {
  return crossentropyRows(losses, grad, totals, x, targets, labels, sampleWeights, scales, classWeights, alpha, rows, classes, smoothing, gamma, scratch, true, true, false, false);
}

export function focalSparseLogitsWithGradient(losses: usize, grad: usize, totals: usize, x: usize, targets: usize, labels: usize, sampleWeights: usize, scales: usize, classWeights: usize, alpha: usize, rows: i32, classes: i32, smoothing: f32, gamma: f32, scratch: usize): i32 {
  return crossentropyRows(losses, grad, totals, x, targets, labels, sampleWeights, scales, classWeights, alpha, rows, classes, smoothing, gamma, scratch, true, true, false, true);
}

export function focalSparseProbabilities(losses: usize, grad: usize, totals: usize, x: usize, targets: usize, labels: usize, sampleWeights: usize, scales: usize, classWeights: usize, alpha: usize, rows: i32, classes: i32, smoothing: f32, gamma: f32, scratch: usize): i32 {
  return crossentropyRows(losses, grad, totals, x, targets, labels, sampleWeights, scales, classWeights, alpha, rows, classes, smoothing, gamma, scratch, false, true, false, false);
}

export function focalSparseProbabilitiesWithGradient(losses: usize, grad: usize, totals: usize, x: usize, targets: usize, labels: usize, sampleWeights: usize, scales: usize, classWeights: usize, alpha: usize, rows: i32, classes: i32, smoothing: f32, gamma: f32, scratch: usize): i32 {
  return crossentropyRows(losses, grad, totals, x, targets, labels, sampleWeights, scales, classWeights, alpha, rows, classes, smoothing, gamma, scratch, false, true, false, true);
}

export function focalDenseLogits(losses: usize, grad: usize, totals: usize, x: usize, targets: usize, labels: usize, sampleWeights: usize, scales: usize, classWeights: usize, alpha: usize, rows: i32, classes: i32, smoothing: f32, gamma: f32, scratch: usize): i32 {
  return crossentropyRows(losses, grad, totals, x, targets, labels, sampleWeights, scales, classWeights, alpha, rows, classes, smoothing, gamma, scratch, true, true, true, false);
}

export function focalDenseLogitsWithGradient(losses: usize, grad: usize, totals: usize, x: usize, targets: usize, labels: usize, sampleWeights: usize, scales: usize, classWeights: usize, alpha: usize, rows: i32, classes: i32, smoothing: f32, gamma: f32, scratch: usize): i32 {
  return crossentropyRows(losses, grad, totals, x, targets, labels, sampleWeights, scales, classWeights, alpha, rows, classes, smoothing, gamma, scratch, true, true, true, true);
}

export function focalDenseProbabilities(losses: usize, grad: usize, totals: usize, x: usize, targets: usize, labels: usize, sampleWeights: usize, scales: usize, classWeights: usize, alpha: usize, rows: i32, classes: i32, smoothing: f32, gamma: f32, scratch: usize): i32 {
  return crossentropyRows(losses, grad, totals, x, targets, labels, sampleWeights, scales, classWeights, alpha, rows, classes, smoothing, gamma, scratch, false, true, true, false);
}

export function focalDenseProbabilitiesWithGradient(losses: usize, grad: usize, totals: usize, x: usize, targets: usize, labels: usize, sampleWeights: usize, scales: usize, classWeights: usize, alpha: usize, rows: i32, classes: i32, smoothing: f32, gamma: f32, scratch: usize): i32 {
  return crossentropyRows(losses, grad, totals, x, targets, labels, sampleWeights, scales, classWeights, alpha, rows, classes, smoothing, gamma, scratch, false, true, true, true);
}

@inline
function crossentropyRows(
  losses: usize,
  grad: usize,
  totals: usize,
  x: usize,
  targets: usize,
  labels: usize,
  sampleWeights: usize,
  scales: usize,
  classWeights: usize,
  alpha: usize,
  rows: i32,
  classes: i32,
  smoothing: f32,
  gamma: f32,
  scratch: usize,
  logits: bool,
  focal: bool,
  dense: bool,
  withGradient: bool,
): i32 {
  const rowBytes = <usize>classes << 2;
  const keep: f32 = 1 - smoothing;
  const uniform: f32 = smoothing / <f32>classes;
  // Sparse targets without smoothing touch one class per row, so they need
  // no pass over the row beyond the normalizer.
  const vectorPass = dense || smoothing != 0;
  let lossSum: f64 = 0;
  let rowCount: f64 = 0;
  let weightSum: f64 = 0;
  let classWeightSum: f64 = 0;
  if (logits && withGradient && dense && !focal) {
    for (let c = 0; c < classes; c++) classWeightSum += <f64>load<f32>(classWeights + (<usize>c << 2));
  }

  let row = 0;
  if (logits && !focal && !dense && smoothing == 0 && classes <= LANE_CLASSES) {
    // Short rows of class ids, four rows at a time with one row per lane:
    // loss = w_t ((m - z_t) + log S), the same formula as the target term
    // below with m, the row max, as the reference, and the gradient
    // scale w_t (p_j - [j = t]).
    // The last group repeats its last row in the unused lanes, so every row
    // goes through the same arithmetic wherever a chunk boundary falls.
    const laneLosses = scratch + LANE_RESULTS;
    for (; row < rows; row += 4) {
      const count = min(4, rows - row);
      const first = x + <usize>row * rowBytes;
      const last = <usize>(count - 1) * rowBytes;
      const logSum = laneLogSum(first, first + min<usize>(rowBytes, last), first + min<usize>(2 * rowBytes, last), first + min<usize>(3 * rowBytes, last), classes, scratch);
      // Gather the target logits and class weights into lanes through
      // scratch memory.
      const classWeightLanes = scratch + LANE_FACTORS;
      let skipped = 0;
      for (let k = 0; k < 4; k++) {
        const label = k < count ? load<i32>(labels + (<usize>(row + k) << 2)) : -1;
        if (label >= classes) {
          store<f64>(totals, <f64>(row + k), 24);
          return STATUS_LABEL_OUT_OF_RANGE;
        }
        if (label < 0) skipped++;
        const offset = <usize>k << 2;
        store<f32>(laneLosses + offset, label < 0 ? 0 : load<f32>(first + <usize>k * rowBytes + (<usize>label << 2)));
        store<f32>(classWeightLanes + offset, label < 0 ? 0 : load<f32>(classWeights + (<usize>label << 2)));
      }
      // The loss lanes in f32: w_t ((m - z_t) + log S), 0 where w_t = 0, then
      // times the sample weight, 0 where that is 0. The scalar path below
      // does the same f32 operations, so results never depend on grouping.
      const target = v128.load(laneLosses);
      const classWeightVector = v128.load(classWeightLanes);
      let weightedLanes = f32x4.add(f32x4.sub(v128.load(scratch + LANE_SHIFT), target), logSum);
      weightedLanes = v128.and(f32x4.mul(classWeightVector, weightedLanes), f32x4.ne(classWeightVector, f32x4.splat(0)));
      const sampleWeightVector = sampleWeights ? v128.load(sampleWeights + (<usize>row << 2)) : f32x4.splat(1);
      if (count == 4 && skipped == 0 && !v128.any_true(v128.load(scratch + LANE_SPECIAL))) {
        weightedLanes = v128.and(f32x4.mul(sampleWeightVector, weightedLanes), f32x4.ne(sampleWeightVector, f32x4.splat(0)));
        v128.store(losses + (<usize>row << 2), weightedLanes);
        const wide = f64x2.add(
          f64x2.promote_low_f32x4(weightedLanes),
          f64x2.promote_low_f32x4(v128.shuffle<f32>(weightedLanes, weightedLanes, 2, 3, 0, 1)),
        );
        lossSum += f64x2.extract_lane(wide, 0) + f64x2.extract_lane(wide, 1);
        rowCount += 4;
        const rowWeights = f32x4.mul(sampleWeightVector, classWeightVector);
        weightSum += <f64>f32x4.extract_lane(rowWeights, 0) + <f64>f32x4.extract_lane(rowWeights, 1) +
          <f64>f32x4.extract_lane(rowWeights, 2) + <f64>f32x4.extract_lane(rowWeights, 3);
      } else {
        v128.store(laneLosses, weightedLanes);
        for (let k = 0; k < count; k++) {
          const index = row + k;
          const label = load<i32>(labels + (<usize>index << 2));
          if (label < 0) {
            store<f32>(losses + (<usize>index << 2), 0);
            continue;
          }
          const classWeight = load<f32>(classWeightLanes + (<usize>k << 2));
          let loss = load<f32>(laneLosses + (<usize>k << 2));
          if (classWeight != 0 && load<i32>(scratch + LANE_SPECIAL + (<usize>k << 2)) != 0) {
            // NaN or +Infinity: the exact path of the row kernel.
            const input = first + <usize>k * rowBytes;
            rowLogSumExp(input, classes, scratch + LANE_EXACT);
            const reference = load<f64>(scratch + LANE_EXACT + SCRATCH_REFERENCE);
            const logSum = load<f64>(scratch + LANE_EXACT + SCRATCH_LOG_SUM);
            loss = <f32>(<f64>classWeight * ((reference - <f64>load<f32>(input + (<usize>label << 2))) + logSum));
          }
          const sampleWeight = sampleWeights ? load<f32>(sampleWeights + (<usize>index << 2)) : <f32>1;
          const weighted: f32 = sampleWeight == 0 ? 0 : sampleWeight * loss;
          store<f32>(losses + (<usize>index << 2), weighted);
          lossSum += <f64>weighted;
          rowCount += 1;
          weightSum += <f64>(sampleWeight * classWeight);
        }
      }
      if (withGradient) laneGradient(grad + <usize>row * rowBytes, first, labels + (<usize>row << 2), scales + (<usize>row << 2), classWeights, count, classes, scratch);
    }
  }

  for (; row < rows; row++) {
    const label = load<i32>(labels + (<usize>row << 2));
    const gradRow = grad + <usize>row * rowBytes;
    if (label < 0) {
      store<f32>(losses + (<usize>row << 2), 0);
      if (withGradient) memory.fill(gradRow, 0, rowBytes);
      continue;
    }
    if (!dense && label >= classes) {
      store<f64>(totals, <f64>row, 24);
      return STATUS_LABEL_OUT_OF_RANGE;
    }
    const input = x + <usize>row * rowBytes;
    const targetRow = targets + <usize>row * rowBytes;
    const sampleWeight: f64 = sampleWeights ? <f64>load<f32>(sampleWeights + (<usize>row << 2)) : 1;

    // 1. The normalizer: lse = R + log S from logits, or the row sum of
    //    probabilities, which must be finite and non-negative.
    let lse: f64 = 0;
    let reference: f64 = 0;
    let logSum: f64 = 0;
    let inverseSum: f64 = 0;
    // With a gradient of class ids, the row's exp terms are kept in the
    // gradient row, so that the gradient needs no second exp: a max pass,
    // then e_j = exp(x_j - max) stored and summed, then a scaling pass.
    let storedSum: f64 = 0;
    let storedOthers: f64 = 0;
    if (logits && withGradient && dense && !focal) {
      // Dense targets keep every e_j; their terms follow from y and w.
      const m = rowMax(input, classes);
      if (isFinite(m)) {
        storedSum = storeExp(gradRow, input, classes, <f32>m, scratch);
        reference = m;
        logSum = Math.log(storedSum);
        lse = m + logSum;
      }
    } else if (logits && withGradient && !vectorPass) {
      const m = rowMax(input, classes);
      if (isFinite(m)) {
        // -Infinity in place of the target logit leaves it out of the sum
        // of the others, which is 1 - p_t without cancellation.
        const targetAt = input + (<usize>label << 2);
        const targetLogit = load<f32>(targetAt);
        store<f32>(targetAt, -Infinity);
        storedOthers = storeExp(gradRow, input, classes, <f32>m, scratch);
        store<f32>(targetAt, targetLogit);
        storedSum = storedOthers + Math.exp(<f64>targetLogit - m);
        reference = m;
        logSum = Math.log(storedSum);
        lse = m + logSum;
      }
    }
    if (logits && storedSum == 0) {
      lse = rowLogSumExp(input, classes, scratch);
      reference = load<f64>(scratch + SCRATCH_REFERENCE);
      logSum = load<f64>(scratch + SCRATCH_LOG_SUM);
    } else if (!logits) {
      const total = rowSum(input, classes, scratch);
      if (total < 0) {
        store<f64>(totals, <f64>row, 24);
        return STATUS_INVALID_PROBABILITY;
      }
      inverseSum = total > 0 ? 1 / total : 0;
    }
    const exact = logits && !isFinite(lse);

    // 2. The terms of every class with a vector pass (dense targets or
    //    smoothing), then the target class of a sparse row as a scalar, in
    //    f64, with 1 - p from expm1 so that a confident row keeps its digits.
    let loss: f64 = 0;
    let derivativeSum: f64 = 0;
    let rowClassWeight: f64 = 0;
    if (vectorPass) {
      if (exact) {
        loss = exactTerms(input, targetRow, classWeights, alpha, classes, lse, keep, uniform, gamma, focal, dense);
      } else {
        if (logits && withGradient && dense && !focal && storedSum != 0) {
          // The gradient row contains e_j, so this pass must not write to it.
          loss = vectorTerms(input, targetRow, classWeights, alpha, classes, reference, logSum, inverseSum, keep, uniform, gamma, gradRow, scratch, logits, focal, dense, false);
        } else {
          loss = vectorTerms(input, targetRow, classWeights, alpha, classes, reference, logSum, inverseSum, keep, uniform, gamma, gradRow, scratch, logits, focal, dense, withGradient);
        }
        derivativeSum = totalWide(scratch + SCRATCH_DERIVATIVE);
      }
      if (dense) rowClassWeight = totalWide(scratch + SCRATCH_WEIGHT);
    }
    let targetLogP: f64 = 0;
    let targetP: f64 = 0;
    let targetDerivative: f64 = 0;
    if (!dense) {
      const labelOffset = <usize>label << 2;
      const classWeight = <f64>load<f32>(classWeights + labelOffset);
      rowClassWeight = classWeight;
      const coefficient = <f64>keep * classWeight * (focal ? <f64>load<f32>(alpha + labelOffset) : 1);
      const value = <f64>load<f32>(input + labelOffset);
      let clipped = false;
      if (logits) {
        targetLogP = (value - reference) - logSum;
        if (focal || withGradient) targetP = Math.exp(targetLogP);
      } else {
        const share = value * inverseSum;
        targetP = min(max(share, <f64>CLIP_LOW), <f64>CLIP_HIGH);
        clipped = share != targetP;
        targetLogP = Math.log(targetP);
      }
      // The loss term and d phi / d l (logits) or d phi / d p
      // (probabilities, 0 when clipped) of the target class.
      if (coefficient != 0 && focal) {
        const q = logits ? -Math.expm1(targetLogP) : 1 - targetP;
        let focusing: f64 = 1;
        if (gamma == 2) focusing = q * q;
        else if (gamma != 0) focusing = Math.pow(q, <f64>gamma);
        loss -= coefficient * focusing * targetLogP;
        const ratio = q > 0 ? focusing / q : 0;
        if (logits) {
          targetDerivative = -coefficient * (focusing - <f64>gamma * targetP * targetLogP * ratio);
        } else if (!clipped) {
          targetDerivative = -coefficient * (focusing / targetP - <f64>gamma * targetLogP * ratio);
        }
      } else if (coefficient != 0) {
        loss -= coefficient * targetLogP;
        if (logits) {
          targetDerivative = -coefficient;
        } else if (!clipped) {
          targetDerivative = -coefficient / targetP;
        }
      }
    }

    const weighted = sampleWeight == 0 ? 0 : sampleWeight * loss;
    store<f32>(losses + (<usize>row << 2), <f32>weighted);
    lossSum += weighted;
    rowCount += 1;
    weightSum += sampleWeight * rowClassWeight;

    // 3. The gradient. With d_c = d(row loss)/d l_c, from logits
    //    dL/dz_j = d_j - p_j * sum_c d_c, because dl_c/dz_j = [c = j] - p_j.
    //    With h_c = d(row loss)/d p_c (0 where the clip is active), from
    //    probabilities dL/dx_j = (h_j - sum_c h_c p_c) / sum(x), because
    //    d(x_c / sum x)/dx_j = ([c = j] - p_c) / sum(x).
    if (withGradient) {
      const scale = <f64>load<f32>(scales + (<usize>row << 2));
      if (scale == 0) {
        memory.fill(gradRow, 0, rowBytes);
      } else if (exact) {
        fillNaN(gradRow, classes);
      } else if (storedSum != 0 && dense) {
        // g_j = scale (A p_j - a_j), with p_j = e_j / S and
        // A = sum_c a_c = (1 - s) sum_c w_c y_c + (s / C) sum_c w_c.
        const total = <f64>keep * rowClassWeight + <f64>uniform * classWeightSum;
        denseGradient(gradRow, targetRow, classWeights, classes, scale, total / storedSum, keep, uniform);
      } else if (storedSum != 0) {
        // g_j = -scale d_t p_j with p_j = e_j / S, and the target entry
        // scale d_t (1 - p_t), where 1 - p_t = (sum of the other e_j) / S.
        const factor = scale * targetDerivative / storedSum;
        scaleRow(gradRow, classes, <f32>-factor);
        store<f32>(gradRow + (<usize>label << 2), <f32>(factor * storedOthers));
      } else {
        const targetShare = logits ? targetDerivative : targetDerivative * targetP;
        if (!dense && vectorPass) {
          const at = gradRow + (<usize>label << 2);
          store<f32>(at, <f32>(<f64>load<f32>(at) + targetDerivative));
        }
        const total = derivativeSum + (dense ? 0 : targetShare);
        // The pass below also sums p_j over j != t, which is 1 - p_t
        // without cancellation: -Infinity in place of the target logit
        // takes p_t out of that sum. The logit is put back afterwards,
        // because `x` may be the caller's own buffer.
        const targetAt = input + (<usize>label << 2);
        const targetLogit = load<f32>(targetAt);
        if (!vectorPass && logits) store<f32>(targetAt, -Infinity);
        const others = gradientPass(gradRow, input, classes, scale, total, reference, logSum, inverseSum, scratch, logits, vectorPass);
        store<f32>(targetAt, targetLogit);
        if (!vectorPass) {
          // The target entry again, in f64: d_t (1 - p_t) from logits,
          // (h_t - h_t p_t) / sum(x) from probabilities.
          const at = gradRow + (<usize>label << 2);
          const entry = logits ? targetDerivative * others : (targetDerivative - targetShare) * inverseSum;
          store<f32>(at, <f32>(scale * entry));
        }
      }
    }
  }

  store<f64>(totals, load<f64>(totals) + lossSum);
  store<f64>(totals, load<f64>(totals, 8) + rowCount, 8);
  store<f64>(totals, load<f64>(totals, 16) + weightSum, 16);
  return STATUS_OK;
}

/**
 * Checks that every included row of probabilities is finite and
 * non-negative, without computing anything, so that a caller streaming many
 * chunks can reject bad input before it writes any result. Rows whose
 * label is negative are skipped. Returns STATUS_OK, or
 * STATUS_INVALID_PROBABILITY with the row index stored in totals[3].
 */
export function checkProbabilities(totals: usize, x: usize, labels: usize, rows: i32, classes: i32): i32 {
  const rowBytes = <usize>classes << 2;
  const limit = f32x4.splat(Infinity);
  const zero = f32x4.splat(0);
  for (let row = 0; row < rows; row++) {
    if (load<i32>(labels + (<usize>row << 2)) < 0) continue;
    const input = x + <usize>row * rowBytes;
    let valid = i32x4.splat(-1);
    for (let j = 0; j < classes; j += 4) {
      const p = input + (<usize>j << 2);
      const v = j + 4 <= classes ? v128.load(p) : loadTail(p, classes - j, 0);
      valid = v128.and(valid, v128.and(f32x4.ge(v, zero), f32x4.lt(v, limit)));
    }
    if (!v128.all_true<i32>(valid)) {
      store<f64>(totals, <f64>row, 24);
      return STATUS_INVALID_PROBABILITY;
    }
  }
  return STATUS_OK;
}

/**
 * Writes the gradient of w_t * crossentropy for the four rows of a lane
 * group (see laneLogSum), scaled by each row's gradient scale: from logits,
 * g_j = scale w_t (p_j - [j = t]). The target entry is -scale w_t times the
 * sum of the other p_j, which keeps 1 - p_t accurate when p_t is near 1.
 * Rows with a negative label or a zero factor get zeros. Rows that contain
 * NaN or +Infinity are redone in f64, and get NaN where their log-sum-exp
 * is not finite, as in the row kernel.
 */
function laneGradient(
  gradFirst: usize,
  inputFirst: usize,
  labels: usize,
  scales: usize,
  classWeights: usize,
  count: i32,
  classes: i32,
  scratch: usize,
): void {
  const rowBytes = <usize>classes << 2;
  const columns = scratch + LANE_COLUMNS;
  const factors = scratch + LANE_FACTORS;
  const targets = scratch + LANE_TARGETS;
  for (let k = 0; k < 4; k++) {
    const label = k < count ? load<i32>(labels + (<usize>k << 2)) : -1;
    const factor: f32 = label < 0 ? 0 : load<f32>(scales + (<usize>k << 2)) * load<f32>(classWeights + (<usize>label << 2));
    store<f32>(factors + (<usize>k << 2), factor);
    store<i32>(targets + (<usize>k << 2), label);
  }
  const factor = v128.load(factors);
  const used = f32x4.ne(factor, f32x4.splat(0));
  const labelLanes = v128.load(targets);
  // p_j = e_j / S, with the terms e_j that laneLogSum left in the columns.
  const inverseSum = f32x4.div(f32x4.splat(1), v128.load(scratch + LANE_SUM));
  let others = f32x4.splat(0);

  let j = 0;
  for (; j + 4 <= classes; j += 4) {
    const at = columns + (<usize>j << 4);
    const p0 = f32x4.mul(v128.load(at), inverseSum);
    const p1 = f32x4.mul(v128.load(at, 16), inverseSum);
    const p2 = f32x4.mul(v128.load(at, 32), inverseSum);
    const p3 = f32x4.mul(v128.load(at, 48), inverseSum);
    others = f32x4.add(others, v128.andnot(p0, i32x4.eq(labelLanes, i32x4.splat(j))));
    others = f32x4.add(others, v128.andnot(p1, i32x4.eq(labelLanes, i32x4.splat(j + 1))));
    others = f32x4.add(others, v128.andnot(p2, i32x4.eq(labelLanes, i32x4.splat(j + 2))));
    others = f32x4.add(others, v128.andnot(p3, i32x4.eq(labelLanes, i32x4.splat(j + 3))));
    const g0 = v128.and(f32x4.mul(factor, p0), used);
    const g1 = v128.and(f32x4.mul(factor, p1), used);
    const g2 = v128.and(f32x4.mul(factor, p2), used);
    const g3 = v128.and(f32x4.mul(factor, p3), used);
    // Columns back to rows: a 4 x 4 transpose.
    const g01 = v128.shuffle<f32>(g0, g1, 0, 4, 1, 5);
    const g23 = v128.shuffle<f32>(g2, g3, 0, 4, 1, 5);
    const h01 = v128.shuffle<f32>(g0, g1, 2, 6, 3, 7);
    const h23 = v128.shuffle<f32>(g2, g3, 2, 6, 3, 7);
    const offset = <usize>j << 2;
    v128.store(gradFirst + offset, v128.shuffle<f32>(g01, g23, 0, 1, 4, 5));
    if (count > 1) v128.store(gradFirst + rowBytes + offset, v128.shuffle<f32>(g01, g23, 2, 3, 6, 7));
    if (count > 2) v128.store(gradFirst + 2 * rowBytes + offset, v128.shuffle<f32>(h01, h23, 0, 1, 4, 5));
    if (count > 3) v128.store(gradFirst + 3 * rowBytes + offset, v128.shuffle<f32>(h01, h23, 2, 3, 6, 7));
  }
  for (; j < classes; j++) {
    const p = f32x4.mul(v128.load(columns + (<usize>j << 4)), inverseSum);
    others = f32x4.add(others, v128.andnot(p, i32x4.eq(labelLanes, i32x4.splat(j))));
    const g = v128.and(f32x4.mul(factor, p), used);
    const offset = <usize>j << 2;
    store<f32>(gradFirst + offset, f32x4.extract_lane(g, 0));
    if (count > 1) store<f32>(gradFirst + rowBytes + offset, f32x4.extract_lane(g, 1));
    if (count > 2) store<f32>(gradFirst + 2 * rowBytes + offset, f32x4.extract_lane(g, 2));
    if (count > 3) store<f32>(gradFirst + 3 * rowBytes + offset, f32x4.extract_lane(g, 3));
  }

  // The target entries, and the rows with NaN or +Infinity.
  v128.store(factors, f32x4.mul(f32x4.neg(factor), others));
  for (let k = 0; k < count; k++) {
    const label = load<i32>(targets + (<usize>k << 2));
    if (label < 0) continue;
    const row = gradFirst + <usize>k * rowBytes;
    const rowFactor = <f64>load<f32>(scales + (<usize>k << 2)) * <f64>load<f32>(classWeights + (<usize>label << 2));
    if (load<i32>(scratch + LANE_SPECIAL + (<usize>k << 2)) != 0 && rowFactor != 0) {
      const input = inputFirst + <usize>k * rowBytes;
      const lse = rowLogSumExp(input, classes, scratch + LANE_EXACT);
      if (!isFinite(lse)) {
        fillNaN(row, classes);
        continue;
      }
      for (let c = 0; c < classes; c++) {
        const p = Math.exp(<f64>load<f32>(input + (<usize>c << 2)) - lse);
        store<f32>(row + (<usize>c << 2), <f32>(rowFactor * (c == label ? p - 1 : p)));
      }
      continue;
    }
    store<f32>(row + (<usize>label << 2), load<f32>(factors + (<usize>k << 2)));
  }
}

/**
 * Returns the max of a row, or NaN when the row contains NaN. pmax keeps the first
 * operand on a NaN comparison, so the NaN check is separate.
 */
@inline
function rowMax(input: usize, classes: i32): f64 {
  let m = f32x4.splat(-Infinity);
  let nan = f32x4.splat(0);
  for (let j = 0; j < classes; j += 4) {
    const p = input + (<usize>j << 2);
    const v = j + 4 <= classes ? v128.load(p) : loadTail(p, classes - j, -Infinity);
    nan = v128.or(nan, f32x4.ne(v, v));
    m = f32x4.pmax(m, v);
  }
  if (v128.any_true(nan)) return NaN;
  return <f64>max(
    max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)),
    max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)),
  );
}

/**
 * Writes e_j = exp(x_j - m) of a row to `out` and returns their sum in f64,
 * summed in f32 over 64 values at a time. Every term is at most 1.
 */
@inline
function storeExp(out: usize, input: usize, classes: i32, m: f32, scratch: usize): f64 {
  const sums = scratch + SCRATCH_LOSS;
  clearWide(sums);
  const shift = f32x4.splat(m);
  let partial = f32x4.splat(0);
  let j = 0;
  for (; j + 4 <= classes; j += 4) {
    const offset = <usize>j << 2;
    const e = vexp(f32x4.sub(v128.load(input + offset), shift));
    v128.store(out + offset, e);
    partial = f32x4.add(partial, e);
    if ((j & 63) == 60) {
      addWide(sums, partial);
      partial = f32x4.splat(0);
    }
  }
  if (j < classes) {
    const offset = <usize>j << 2;
    const e = vexp(f32x4.sub(loadTail(input + offset, classes - j, -Infinity), shift));
    storeTail(out + offset, e, classes - j);
    partial = f32x4.add(partial, e);
  }
  addWide(sums, partial);
  return totalWide(sums);
}

/**
 * Turns the stored terms e_j of a dense row into its gradient in place:
 * g_j = scale (e_j A / S - a_j), with a_j = w_j ((1 - s) y_j + s / C) and
 * `ratio` = A / S.
 */
@inline
function denseGradient(
  row: usize,
  targetRow: usize,
  classWeights: usize,
  classes: i32,
  scale: f64,
  ratio: f64,
  keep: f32,
  uniform: f32,
): void {
  const scaleLanes = f32x4.splat(<f32>scale);
  const ratioLanes = f32x4.splat(<f32>ratio);
  const keepLanes = f32x4.splat(keep);
  const uniformLanes = f32x4.splat(uniform);
  let j = 0;
  for (; j + 4 <= classes; j += 4) {
    const offset = <usize>j << 2;
    const a = f32x4.mul(
      v128.load(classWeights + offset),
      f32x4.add(f32x4.mul(v128.load(targetRow + offset), keepLanes), uniformLanes),
    );
    const g = f32x4.mul(scaleLanes, f32x4.sub(f32x4.mul(v128.load(row + offset), ratioLanes), a));
    v128.store(row + offset, g);
  }
  for (; j < classes; j++) {
    const offset = <usize>j << 2;
    const a = load<f32>(classWeights + offset) * (load<f32>(targetRow + offset) * keep + uniform);
    store<f32>(row + offset, <f32>scale * (load<f32>(row + offset) * <f32>ratio - a));
  }
}

/** Multiplies a row by `factor` in place. */
@inline
function scaleRow(row: usize, classes: i32, factor: f32): void {
  const lanes = f32x4.splat(factor);
  let j = 0;
  for (; j + 4 <= classes; j += 4) {
    const offset = <usize>j << 2;
    v128.store(row + offset, f32x4.mul(v128.load(row + offset), lanes));
  }
  for (; j < classes; j++) {
    const offset = <usize>j << 2;
    store<f32>(row + offset, load<f32>(row + offset) * factor);
  }
}

/**
 * Returns the sum of a row of probabilities in f64, or -1 when a value is
 * negative, NaN or infinite.
 */
@inline
function rowSum(input: usize, classes: i32, scratch: usize): f64 {
  const sums = scratch + SCRATCH_LOSS;
  clearWide(sums);
  const limit = f32x4.splat(Infinity);
  const zero = f32x4.splat(0);
  let valid = i32x4.splat(-1);
  // Sums run in f32 over 64 values (16 a lane), then in f64.
  let partial = zero;
  let j = 0;
  for (; j + 4 <= classes; j += 4) {
    const v = v128.load(input + (<usize>j << 2));
    // NaN fails both comparisons.
    valid = v128.and(valid, v128.and(f32x4.ge(v, zero), f32x4.lt(v, limit)));
    partial = f32x4.add(partial, v);
    if ((j & 63) == 60) {
      addWide(sums, partial);
      partial = zero;
    }
  }
  if (j < classes) {
    const v = loadTail(input + (<usize>j << 2), classes - j, 0);
    valid = v128.and(valid, v128.and(f32x4.ge(v, zero), f32x4.lt(v, limit)));
    partial = f32x4.add(partial, v);
  }
  addWide(sums, partial);
  if (!v128.all_true<i32>(valid)) return -1;
  return totalWide(sums);
}

/**
 * Adds the terms of every class of a row in f32 lanes and returns the row
 * loss. With a gradient, stores d_c (logits) or h_c (probabilities) in
 * `gradRow` and their sum D in the scratch area. For dense targets, also
 * stores sum_c classWeight_c * y_c there.
 */
@inline
function vectorTerms(
  input: usize,
  targetRow: usize,
  classWeights: usize,
  alpha: usize,
  classes: i32,
  reference: f64,
  logSum: f64,
  inverseSum: f64,
  keep: f32,
  uniform: f32,
  gamma: f32,
  gradRow: usize,
  scratch: usize,
  logits: bool,
  focal: bool,
  dense: bool,
  withGradient: bool,
): f64 {
  const lossSums = scratch + SCRATCH_LOSS;
  const derivativeSums = scratch + SCRATCH_DERIVATIVE;
  const weightSums = scratch + SCRATCH_WEIGHT;
  clearWide(lossSums);
  clearWide(derivativeSums);
  clearWide(weightSums);
  const referenceLanes = f32x4.splat(<f32>reference);
  const logSumLanes = f32x4.splat(<f32>logSum);
  const inverseSumLanes = f32x4.splat(<f32>inverseSum);
  const keepLanes = f32x4.splat(keep);
  const uniformLanes = f32x4.splat(uniform);
  const gammaLanes = f32x4.splat(gamma);
  const one = f32x4.splat(1);
  const zero = f32x4.splat(0);
  const low = f32x4.splat(CLIP_LOW);
  const high = f32x4.splat(CLIP_HIGH);
  const focusing = gamma != 0;
  // (1 - p)^2 for the usual gamma = 2, which needs no exp or log.
  const square = gamma == 2;

  // Sums run in f32 over blocks of 64 classes (16 terms a lane), then in
  // f64 across blocks.
  for (let block = 0; block < classes; block += 64) {
    const blockEnd = min(block + 64, classes);
    let lossPartial = zero;
    let derivativePartial = zero;
    let weightPartial = zero;
    for (let j = block; j < blockEnd; j += 4) {
      const offset = <usize>j << 2;
      const count = classes - j;
      const whole = count >= 4;
      // Padding lanes get a zero coefficient, so they add nothing.
      const v = whole ? v128.load(input + offset) : loadTail(input + offset, count, 0);
      const w = whole ? v128.load(classWeights + offset) : loadTail(classWeights + offset, count, 0);
      let a = w;
      if (focal) {
        a = f32x4.mul(a, whole ? v128.load(alpha + offset) : loadTail(alpha + offset, count, 0));
      }
      if (dense) {
        const y = whole ? v128.load(targetRow + offset) : loadTail(targetRow + offset, count, 0);
        weightPartial = f32x4.add(weightPartial, f32x4.mul(w, y));
        a = f32x4.mul(a, f32x4.add(f32x4.mul(y, keepLanes), uniformLanes));
      } else {
        a = f32x4.mul(a, uniformLanes);
      }
      const used = f32x4.ne(a, zero);
      if (!v128.any_true(used)) {
        // No class of these four has a coefficient, as in most groups of a
        // one-hot row: no loss term and a zero derivative.
        if (withGradient) {
          if (whole) v128.store(gradRow + offset, zero);
          else storeTail(gradRow + offset, zero, count);
        }
        continue;
      }

      let logP: v128;
      let p = zero;
      let unclipped = zero;
      if (logits) {
        logP = f32x4.sub(f32x4.sub(v, referenceLanes), logSumLanes);
        if (focal) p = vexp(logP);
      } else {
        const share = f32x4.mul(v, inverseSumLanes);
        p = f32x4.pmin(f32x4.pmax(share, low), high);
        unclipped = f32x4.eq(share, p);
        logP = vlog(p);
      }

      let term: v128;
      let derivative = zero;
      if (focal) {
        const q = f32x4.sub(one, p);
        let powered = one;
        if (square) powered = f32x4.mul(q, q);
        else if (focusing) powered = vexp(f32x4.mul(gammaLanes, vlog(q)));
        term = f32x4.mul(f32x4.mul(a, powered), logP);
        if (withGradient) {
          // With phi = -a q^gamma l, q = 1 - p and p = e^l, so dq/dl = -p:
          //   d phi / d l = -a (q^gamma - gamma p l q^(gamma - 1))   (logits)
          //   d phi / d p = -a (q^gamma / p - gamma l q^(gamma - 1)) (probabilities)
          // q^(gamma - 1) is powered / q, and 0 where q = 0, which is the
          // limit of l q^(gamma - 1) as p goes to 1 for any gamma > 0.
          const ratio = v128.and(f32x4.div(powered, q), f32x4.ne(q, zero));
          const tilt = f32x4.mul(f32x4.mul(gammaLanes, logP), ratio);
          if (logits) {
            derivative = f32x4.mul(a, f32x4.sub(f32x4.mul(p, tilt), powered));
          } else {
            derivative = f32x4.mul(a, f32x4.sub(tilt, f32x4.div(powered, p)));
          }
        }
      } else {
        term = f32x4.mul(a, logP);
        if (withGradient) {
          derivative = logits ? f32x4.neg(a) : f32x4.neg(f32x4.div(a, p));
        }
      }
      lossPartial = f32x4.add(lossPartial, v128.and(term, used));

      if (withGradient) {
        derivative = v128.and(derivative, used);
        if (!logits) derivative = v128.and(derivative, unclipped);
        if (whole) {
          v128.store(gradRow + offset, derivative);
        } else {
          storeTail(gradRow + offset, derivative, count);
        }
        derivativePartial = f32x4.add(derivativePartial, logits ? derivative : f32x4.mul(derivative, p));
      }
    }
    addWide(lossSums, lossPartial);
    if (withGradient) addWide(derivativeSums, derivativePartial);
    if (dense) addWide(weightSums, weightPartial);
  }
  // The terms were summed as a * l; the loss is their negation.
  return -totalWide(lossSums);
}

/**
 * Returns the row loss in f64 for a row whose log-sum-exp is not finite, so
 * that IEEE rules decide between +Infinity and NaN.
 */
function exactTerms(
  input: usize,
  targetRow: usize,
  classWeights: usize,
  alpha: usize,
  classes: i32,
  lse: f64,
  keep: f32,
  uniform: f32,
  gamma: f32,
  focal: bool,
  dense: bool,
): f64 {
  let loss: f64 = 0;
  for (let j = 0; j < classes; j++) {
    const offset = <usize>j << 2;
    let a = <f64>load<f32>(classWeights + offset) * (focal ? <f64>load<f32>(alpha + offset) : 1);
    a *= dense ? <f64>keep * <f64>load<f32>(targetRow + offset) + <f64>uniform : <f64>uniform;
    if (a == 0) continue;
    const logP = <f64>load<f32>(input + offset) - lse;
    const focusing = focal && gamma != 0 ? Math.pow(-Math.expm1(logP), <f64>gamma) : 1;
    loss -= a * focusing * logP;
  }
  return loss;
}

/**
 * Turns the stored derivatives of a row into its gradient, in place:
 * from logits g_j = scale (d_j - p_j D), from probabilities
 * g_j = scale (h_j - D) / sum(x). Without a vector pass the stored
 * derivatives are all 0 and are not read. Returns the sum of p_j in f64
 * (from logits; 0 from probabilities).
 */
@inline
function gradientPass(
  gradRow: usize,
  input: usize,
  classes: i32,
  scale: f64,
  total: f64,
  reference: f64,
  logSum: f64,
  inverseSum: f64,
  scratch: usize,
  logits: bool,
  readStored: bool,
): f64 {
  const probabilitySums = scratch + SCRATCH_LOSS;
  clearWide(probabilitySums);
  let partial = f32x4.splat(0);
  const scaleLanes = f32x4.splat(<f32>scale);
  const totalLanes = f32x4.splat(<f32>total);
  const referenceLanes = f32x4.splat(<f32>reference);
  const logSumLanes = f32x4.splat(<f32>logSum);
  const inverseSumLanes = f32x4.splat(<f32>inverseSum);
  for (let j = 0; j < classes; j += 4) {
    const offset = <usize>j << 2;
    const count = classes - j;
    const whole = count >= 4;
    let stored = f32x4.splat(0);
    if (readStored) {
      stored = whole ? v128.load(gradRow + offset) : loadTail(gradRow + offset, count, 0);
    }
    let g: v128;
    if (logits) {
      const v = whole ? v128.load(input + offset) : loadTail(input + offset, count, 0);
      let p = vexp(f32x4.sub(f32x4.sub(v, referenceLanes), logSumLanes));
      if (!whole) p = v128.and(p, tailMask(count));
      // Sums of 16 terms a lane in f32, then in f64.
      partial = f32x4.add(partial, p);
      if ((j & 63) == 60) {
        addWide(probabilitySums, partial);
        partial = f32x4.splat(0);
      }
      g = f32x4.mul(scaleLanes, f32x4.sub(stored, f32x4.mul(p, totalLanes)));
    } else {
      g = f32x4.mul(f32x4.mul(scaleLanes, f32x4.sub(stored, totalLanes)), inverseSumLanes);
    }
    if (whole) {
      v128.store(gradRow + offset, g);
    } else {
      storeTail(gradRow + offset, g, count);
    }
  }
  addWide(probabilitySums, partial);
  return logits ? totalWide(probabilitySums) : 0;
}

/** Returns a mask of the first `count` (1 to 3) lanes. */
@inline
function tailMask(count: i32): v128 {
  return i32x4.gt_s(i32x4.splat(count), i32x4(0, 1, 2, 3));
}

function fillNaN(gradRow: usize, classes: i32): void {
  for (let j = 0; j < classes; j++) store<f32>(gradRow + (<usize>j << 2), NaN);
}
