// The benchmarked operations: what each needs, which shapes run it, and its
// float64 reference.

import * as reference from "./reference.mjs";
import { FOCAL_ALPHA, FOCAL_GAMMA } from "./peers.mjs";

const lossOf = (result) => ({ loss: result.loss });

/**
 * `tokenLevel` marks the operations that also run on the rank-3 shape with a
 * mask. The others skip that shape, so that the full run stays under 10
 * minutes.
 */
export const OPERATIONS = [
  {
    id: "sparse-logits",
    title: "sparse crossentropy from logits",
    tokenLevel: true,
    needs: {},
    reference: (d) =>
      lossOf(reference.sparseFromLogits(d.logits, d.labels, d.rows, d.classes, d.mask, false)),
  },
  {
    id: "categorical-logits",
    title: "categorical (one-hot) crossentropy from logits",
    needs: { oneHot: true },
    reference: (d) =>
      lossOf(reference.categoricalFromLogits(d.logits, d.oneHot, d.rows, d.classes, false)),
  },
  {
    id: "sparse-probs",
    title: "sparse crossentropy from probabilities",
    needs: { probabilities: true },
    reference: (d) => ({
      loss: reference.fromProbabilities(d.probabilities, d.labels, d.rows, d.classes, true),
    }),
  },
  {
    id: "categorical-probs",
    title: "categorical (one-hot) crossentropy from probabilities",
    needs: { oneHot: true, probabilities: true },
    reference: (d) => ({
      loss: reference.fromProbabilities(d.probabilities, d.oneHot, d.rows, d.classes, false),
    }),
  },
  {
    id: "log-sum-exp",
    title: "log-sum-exp",
    tokenLevel: true,
    needs: {},
    reference: (d) => ({ loss: reference.logSumExp(d.logits, d.rows, d.classes) }),
  },
  {
    id: "sparse-focal",
    title: `sparse focal crossentropy from logits (alpha ${FOCAL_ALPHA}, gamma ${FOCAL_GAMMA})`,
    needs: {},
    reference: (d) =>
      lossOf(reference.focalFromLogits(d.logits, d.labels, d.rows, d.classes, true, FOCAL_ALPHA, FOCAL_GAMMA, false)),
  },
  {
    id: "categorical-focal",
    title: `categorical focal crossentropy from logits (alpha ${FOCAL_ALPHA}, gamma ${FOCAL_GAMMA})`,
    needs: { oneHot: true },
    reference: (d) =>
      lossOf(reference.focalFromLogits(d.logits, d.oneHot, d.rows, d.classes, false, FOCAL_ALPHA, FOCAL_GAMMA, false)),
  },
  {
    id: "sparse-logits-grad",
    title: "sparse crossentropy from logits, with gradient",
    tokenLevel: true,
    needs: {},
    reference: (d) =>
      reference.sparseFromLogits(d.logits, d.labels, d.rows, d.classes, d.mask, true),
  },
  {
    id: "categorical-logits-grad",
    title: "categorical (one-hot) crossentropy from logits, with gradient",
    needs: { oneHot: true },
    reference: (d) =>
      reference.categoricalFromLogits(d.logits, d.oneHot, d.rows, d.classes, true),
  },
  {
    id: "sparse-focal-grad",
    title: "sparse focal crossentropy from logits, with gradient",
    needs: {},
    reference: (d) =>
      reference.focalFromLogits(d.logits, d.labels, d.rows, d.classes, true, FOCAL_ALPHA, FOCAL_GAMMA, true),
  },
  {
    id: "categorical-focal-grad",
    title: "categorical focal crossentropy from logits, with gradient",
    needs: { oneHot: true },
    reference: (d) =>
      reference.focalFromLogits(d.logits, d.oneHot, d.rows, d.classes, false, FOCAL_ALPHA, FOCAL_GAMMA, true),
  },
];

const TOLERANCE = 1e-5;

/**
 * Compares one output with its float64 reference. Returns the largest
 * |got - ref| / max(1, |ref|) and whether every element is within 1e-5 of
 * that scale (a NaN anywhere fails).
 */
function compare(got, expected) {
  if (!got || got.length !== expected.length) {
    return { ok: false, maxError: Infinity, detail: `length ${got?.length} != ${expected.length}` };
  }
  let maxError = 0;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const error = Math.abs(got[i] - expected[i]) / Math.max(1, Math.abs(expected[i]));
    if (!(error <= maxError)) {
      maxError = Number.isNaN(error) ? Infinity : error;
      worst = i;
    }
  }
  return {
    ok: maxError <= TOLERANCE,
    maxError,
    detail: `at [${worst}] got ${got[worst]}, expected ${expected[worst]}`,
  };
}

/** Checks loss and, where the reference has one, gradient. */
export function check(result, expected) {
  const loss = compare(result.loss, expected.loss);
  if (!expected.grad) return loss;
  const grad = compare(result.grad, expected.grad);
  return {
    ok: loss.ok && grad.ok,
    maxError: Math.max(loss.maxError, grad.maxError),
    detail: `loss ${loss.detail}; grad ${grad.detail}`,
  };
}
