import { computeCrossentropy } from "./crossentropy.js";
import type {
  CrossentropyOptions,
  FloatInput,
  FocalOptions,
  GradientOptions,
  LabelInput,
  LossAndGradient,
  LossResult,
} from "./types.js";

export { logSumExp, logSoftmax, softmax } from "./row-ops.js";
export { reduceTotals } from "./options.js";
export { inputBuffer } from "./input-buffer.js";
export type * from "./types.js";

/**
 * Computes the categorical crossentropy of each row of `yPred` against the
 * target rows `yTrue` (one-hot or soft), as Keras `CategoricalCrossentropy`
 * with `reduction="none"` by default.
 *
 * From logits: loss = sum_c t_c (lse(z) - z_c). From probabilities: each row
 * is divided by its sum and clipped to [1e-7, 1 - 1e-7], then
 * loss = -sum_c t_c log p_c. With label smoothing s, t = y (1 - s) + s / C.
 *
 * @param yTrue - Target rows, the shape of `yPred`.
 * @param yPred - Logits or probabilities, class axis last unless `options.axis`.
 * @returns Per-row losses for `'none'`, else the reduced number, or the totals.
 * @throws TypeError or RangeError for invalid input, before any result.
 */
export function categoricalCrossentropy(
  yTrue: FloatInput,
  yPred: FloatInput,
  options?: CrossentropyOptions,
): LossResult {
  return computeCrossentropy({ dense: true, focal: false }, yTrue, yPred, options).loss;
}

/**
 * Computes the crossentropy of each row of `yPred` against integer class
 * ids, as Keras `SparseCategoricalCrossentropy`. Gives the same loss as
 * {@link categoricalCrossentropy} with the one-hot rows of `labels`, up to
 * float32 rounding, for every option, without building them.
 *
 * @param labels - One class id per row, also with a trailing axis of size 1.
 * @param yPred - Logits or probabilities, class axis last unless `options.axis`.
 * @returns Per-row losses for `'none'`, else the reduced number, or the totals.
 * @throws TypeError or RangeError for invalid input, before any result.
 */
export function sparseCategoricalCrossentropy(
  labels: LabelInput,
  yPred: FloatInput,
  options?: CrossentropyOptions,
): LossResult {
  return computeCrossentropy({ dense: false, focal: false }, labels, yPred, options).loss;
}

/**
 * Computes the focal crossentropy of each row, as Keras
 * `CategoricalFocalCrossentropy`: loss = -sum_c alpha_c (1 - p_c)^gamma t_c log p_c,
 * with alpha 0.25 and gamma 2 by default. With gamma 0 and alpha 1 it
 * equals {@link categoricalCrossentropy}.
 *
 * NOTE: from logits, log p comes from the log-softmax without a clip. Keras
 * clips the softmax to [1e-7, 1 - 1e-7] here too, so results differ where
 * a probability is below 1e-7.
 */
export function categoricalFocalCrossentropy(
  yTrue: FloatInput,
  yPred: FloatInput,
  options?: FocalOptions,
): LossResult {
  return computeCrossentropy({ dense: true, focal: true }, yTrue, yPred, options).loss;
}

/** Computes {@link categoricalFocalCrossentropy} against integer class ids. */
export function sparseCategoricalFocalCrossentropy(
  labels: LabelInput,
  yPred: FloatInput,
  options?: FocalOptions,
): LossResult {
  return computeCrossentropy({ dense: false, focal: true }, labels, yPred, options).loss;
}

/**
 * Computes {@link categoricalCrossentropy} and its gradient with respect to
 * `yPred` in one fused pass per row.
 *
 * The gradient is of the reduced loss, or of sum(dy * losses) for `'none'`.
 * From logits it is with respect to the logits. From probabilities it is
 * with respect to the raw probabilities, through the row normalization and
 * the clip, so it is 0 where the clip is active. Masked and ignored rows get zeros.
 *
 * @returns `{ loss, grad }`, where `grad` has the shape of `yPred`
 * (`options.out` when given, so a training loop allocates nothing).
 */
export function categoricalCrossentropyWithGrad(
  yTrue: FloatInput,
  yPred: FloatInput,
  options?: CrossentropyOptions & GradientOptions,
): LossAndGradient {
  const { loss, grad } = computeCrossentropy({ dense: true, focal: false }, yTrue, yPred, options, options ?? {});
  return { loss, grad: grad! };
}

/** Computes {@link sparseCategoricalCrossentropy} and its gradient; see {@link categoricalCrossentropyWithGrad}. */
export function sparseCategoricalCrossentropyWithGrad(
  labels: LabelInput,
  yPred: FloatInput,
  options?: CrossentropyOptions & GradientOptions,
): LossAndGradient {
  const { loss, grad } = computeCrossentropy({ dense: false, focal: false }, labels, yPred, options, options ?? {});
  return { loss, grad: grad! };
}

/** Computes {@link categoricalFocalCrossentropy} and its gradient; see {@link categoricalCrossentropyWithGrad}. */
export function categoricalFocalCrossentropyWithGrad(
  yTrue: FloatInput,
  yPred: FloatInput,
  options?: FocalOptions & GradientOptions,
): LossAndGradient {
  const { loss, grad } = computeCrossentropy({ dense: true, focal: true }, yTrue, yPred, options, options ?? {});
  return { loss, grad: grad! };
}

/** Computes {@link sparseCategoricalFocalCrossentropy} and its gradient; see {@link categoricalCrossentropyWithGrad}. */
export function sparseCategoricalFocalCrossentropyWithGrad(
  labels: LabelInput,
  yPred: FloatInput,
  options?: FocalOptions & GradientOptions,
): LossAndGradient {
  const { loss, grad } = computeCrossentropy({ dense: false, focal: true }, labels, yPred, options, options ?? {});
  return { loss, grad: grad! };
}
