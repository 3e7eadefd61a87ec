// Adapters that run each benchmarked operation in each implementation.
// An adapter takes the shape's data and returns an (a)sync function that
// computes { loss, grad? } end to end: from the caller's Float32Array inputs
// to Float32Array outputs, copies into and out of the implementation
// included. Adapters exist only where the implementation has the operation.

import * as plain from "./plain-js.mjs";

export const FOCAL_ALPHA = 0.25;
export const FOCAL_GAMMA = 2;

/** Class id that ONNX SoftmaxCrossEntropyLoss skips; it replaces the mask of the rank-3 shape. */
const ORT_IGNORE_INDEX = -100;

export function plainJsAdapters() {
  const lossBuffer = (d) => new Float32Array(d.rows);
  const gradBuffer = (d) => new Float32Array(d.elements);
  return {
    "sparse-logits": (d) => {
      const out = lossBuffer(d);
      return () => ({
        loss: plain.sparseFromLogits(d.logits, d.labels, d.rows, d.classes, d.mask, out),
      });
    },
    "categorical-logits": (d) => {
      const out = lossBuffer(d);
      return () => ({
        loss: plain.categoricalFromLogits(d.logits, d.oneHot, d.rows, d.classes, out),
      });
    },
    "sparse-probs": (d) => {
      const out = lossBuffer(d);
      return () => ({
        loss: plain.fromProbabilities(d.probabilities, d.labels, d.rows, d.classes, true, out),
      });
    },
    "categorical-probs": (d) => {
      const out = lossBuffer(d);
      return () => ({
        loss: plain.fromProbabilities(d.probabilities, d.oneHot, d.rows, d.classes, false, out),
      });
    },
    "log-sum-exp": (d) => {
      const out = lossBuffer(d);
      return () => ({ loss: plain.logSumExp(d.logits, d.rows, d.classes, out) });
    },
    "sparse-focal": (d) => {
      const out = lossBuffer(d);
      return () => ({
        loss: plain.focalFromLogits(d.logits, d.labels, d.rows, d.classes, true, FOCAL_ALPHA, FOCAL_GAMMA, out, null),
      });
    },
    "categorical-focal": (d) => {
      const out = lossBuffer(d);
      return () => ({
        loss: plain.focalFromLogits(d.logits, d.oneHot, d.rows, d.classes, false, FOCAL_ALPHA, FOCAL_GAMMA, out, null),
      });
    },
    "sparse-logits-grad": (d) => {
      const out = lossBuffer(d);
      const grad = gradBuffer(d);
      return () => ({
        loss: plain.sparseFromLogitsWithGrad(d.logits, d.labels, d.rows, d.classes, d.mask, out, grad),
        grad,
      });
    },
    "categorical-logits-grad": (d) => {
      const out = lossBuffer(d);
      const grad = gradBuffer(d);
      return () => ({
        loss: plain.categoricalFromLogitsWithGrad(d.logits, d.oneHot, d.rows, d.classes, out, grad),
        grad,
      });
    },
    "sparse-focal-grad": (d) => {
      const out = lossBuffer(d);
      const grad = gradBuffer(d);
      return () => ({
        loss: plain.focalFromLogits(d.logits, d.labels, d.rows, d.classes, true, FOCAL_ALPHA, FOCAL_GAMMA, out, grad),
        grad,
      });
    },
    "categorical-focal-grad": (d) => {
      const out = lossBuffer(d);
      const grad = gradBuffer(d);
      return () => ({
        loss: plain.focalFromLogits(d.logits, d.oneHot, d.rows, d.classes, false, FOCAL_ALPHA, FOCAL_GAMMA, out, grad),
        grad,
      });
    },
  };
}

/**
 * Adapters for wasm-xent's public API, given its module namespace. Gradient
 * calls reuse one `out` buffer, as the API allows.
 */
export function wasmXentAdapters(x) {
  const logitOptions = (d) => {
    const options = { fromLogits: true, shape: d.shape };
    if (d.mask) options.mask = d.mask;
    return options;
  };
  const probOptions = (d) => ({ fromLogits: false, shape: d.shape });
  const focalOptions = (d) => ({
    ...logitOptions(d),
    alpha: FOCAL_ALPHA,
    gamma: FOCAL_GAMMA,
  });
  const withGrad = (fn, targets, optionsOf) => (d) => {
    const options = { ...optionsOf(d), out: new Float32Array(d.elements) };
    return () => fn(targets(d), d.logits, options);
  };
  const lossOnly = (fn, targets, inputOf, optionsOf) => (d) => {
    const options = optionsOf(d);
    return () => ({ loss: fn(targets(d), inputOf(d), options) });
  };
  const labels = (d) => d.labels;
  const oneHot = (d) => d.oneHot;
  const logits = (d) => d.logits;
  const probabilities = (d) => d.probabilities;
  return {
    "sparse-logits": lossOnly(x.sparseCategoricalCrossentropy, labels, logits, logitOptions),
    "categorical-logits": lossOnly(x.categoricalCrossentropy, oneHot, logits, logitOptions),
    "sparse-probs": lossOnly(x.sparseCategoricalCrossentropy, labels, probabilities, probOptions),
    "categorical-probs": lossOnly(x.categoricalCrossentropy, oneHot, probabilities, probOptions),
    "log-sum-exp": (d) => {
      const options = { shape: d.shape };
      return () => ({ loss: x.logSumExp(d.logits, options) });
    },
    "sparse-focal": lossOnly(x.sparseCategoricalFocalCrossentropy, labels, logits, focalOptions),
    "categorical-focal": lossOnly(x.categoricalFocalCrossentropy, oneHot, logits, focalOptions),
    "sparse-logits-grad": withGrad(x.sparseCategoricalCrossentropyWithGrad, labels, logitOptions),
    "categorical-logits-grad": withGrad(x.categoricalCrossentropyWithGrad, oneHot, logitOptions),
    "sparse-focal-grad": withGrad(x.sparseCategoricalFocalCrossentropyWithGrad, labels, focalOptions),
    "categorical-focal-grad": withGrad(x.categoricalFocalCrossentropyWithGrad, oneHot, focalOptions),
  };
}

/**
 * Adapters for wasm-xent with the input already in its memory: the logits
 * are copied into `inputBuffer()` once, outside the timing, and the losses
 * read them in place.
 */
export function wasmXentInPlaceAdapters(x) {
  const inPlace = (d) => {
    x.inputBuffer(d.elements).set(d.logits);
    // A call of another shape can grow the memory and detach the view; the
    // values survive, so a fresh view is enough.
    let view = x.inputBuffer(d.elements);
    return () => {
      if (view.length === 0) view = x.inputBuffer(d.elements);
      return view;
    };
  };
  const logitOptions = (d) => {
    const options = { fromLogits: true, shape: d.shape };
    if (d.mask) options.mask = d.mask;
    return options;
  };
  return {
    "sparse-logits": (d) => {
      const input = inPlace(d);
      const options = logitOptions(d);
      return () => ({ loss: x.sparseCategoricalCrossentropy(d.labels, input(), options) });
    },
    "log-sum-exp": (d) => {
      const input = inPlace(d);
      const options = { shape: d.shape };
      return () => ({ loss: x.logSumExp(input(), options) });
    },
    "sparse-logits-grad": (d) => {
      const input = inPlace(d);
      const options = { ...logitOptions(d), out: new Float32Array(d.elements) };
      return () => x.sparseCategoricalCrossentropyWithGrad(d.labels, input(), options);
    },
  };
}

/**
 * Adapters for onnxruntime-node on one intra-op thread. Sparse crossentropy
 * uses the ONNX SoftmaxCrossEntropyLoss operator; the mask becomes its
 * ignore_index. Models are built once per shape, outside the timing.
 */
export function onnxRuntimeAdapters(ort, models) {
  const sessionOptions = {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
  };
  const scores = (d, data) => new ort.Tensor("float32", data, [d.rows, d.classes]);
  return {
    "sparse-logits": async (d) => {
      const session = await ort.InferenceSession.create(
        models.sparseCrossentropyModel(d.rows, d.classes, ORT_IGNORE_INDEX),
        sessionOptions,
      );
      const labels = Int32Array.from(d.labels);
      if (d.mask) {
        for (let i = 0; i < d.rows; i++) if (d.mask[i] === 0) labels[i] = ORT_IGNORE_INDEX;
      }
      return async () => {
        const result = await session.run({
          scores: scores(d, d.logits),
          labels: new ort.Tensor("int32", labels, [d.rows]),
        });
        return { loss: result.loss.data };
      };
    },
    "categorical-logits": async (d) => {
      const session = await ort.InferenceSession.create(
        models.categoricalCrossentropyModel(d.rows, d.classes),
        sessionOptions,
      );
      return async () => {
        const result = await session.run({
          scores: scores(d, d.logits),
          target: scores(d, d.oneHot),
        });
        return { loss: result.loss.data };
      };
    },
    "categorical-probs": async (d) => {
      const session = await ort.InferenceSession.create(
        models.categoricalFromProbabilitiesModel(d.rows, d.classes),
        sessionOptions,
      );
      return async () => {
        const result = await session.run({
          probs: scores(d, d.probabilities),
          target: scores(d, d.oneHot),
        });
        return { loss: result.loss.data };
      };
    },
    "log-sum-exp": async (d) => {
      const session = await ort.InferenceSession.create(
        models.logSumExpModel(d.rows, d.classes),
        sessionOptions,
      );
      return async () => {
        const result = await session.run({ x: scores(d, d.logits) });
        return { loss: result.lse.data };
      };
    },
  };
}

/**
 * Adapters for TensorFlow.js on one backend ("wasm" or "cpu"). Each call
 * creates the input tensors from the Float32Arrays, runs the ops, reads the
 * result back with dataSync and disposes every tensor. Gradients come from
 * tf.valueAndGrad over tf.losses.softmaxCrossEntropy, as a tfjs user writes
 * them. Sparse labels go through tf.oneHot there, because the wasm backend
 * has no UnsortedSegmentSum kernel for the gradient of a batched gather.
 */
export function tfjsAdapters(tf, backend) {
  const selectBackend = async () => {
    if (tf.getBackend() !== backend) await tf.setBackend(backend);
  };
  const run = (compute) => {
    const tensors = tf.tidy(compute);
    const list = Array.isArray(tensors) ? tensors : [tensors];
    const data = list.map((t) => t.dataSync());
    for (const t of list) t.dispose();
    return data;
  };
  const sparseGrad = (d) => () => {
    const z = tf.tensor2d(d.logits, [d.rows, d.classes]);
    const y = tf.oneHot(tf.tensor1d(d.labels, "int32"), d.classes);
    const weights = d.mask ? tf.tensor1d(d.mask) : undefined;
    const loss = (logits) =>
      tf.losses.softmaxCrossEntropy(y, logits, weights, 0, tf.Reduction.NONE);
    const { value, grad } = tf.valueAndGrad(loss)(z);
    return [value, grad];
  };
  const adapters = {
    "sparse-logits": (d) => {
      // Positions of the target logits in the flattened batch; tf.gather
      // with batchDims 1 reads out of bounds on the wasm backend (4.22).
      const positions = Int32Array.from(d.labels, (label, i) => i * d.classes + label);
      return () => {
        const [loss] = run(() => {
          const z = tf.tensor2d(d.logits, [d.rows, d.classes]);
          const flat = tf.reshape(tf.logSoftmax(z), [d.elements]);
          const loss = tf.neg(tf.gather(flat, tf.tensor1d(positions, "int32")));
          return d.mask ? tf.mul(loss, tf.tensor1d(d.mask)) : loss;
        });
        return { loss };
      };
    },
    "categorical-logits": (d) => () => {
      const [loss] = run(() => {
        const z = tf.tensor2d(d.logits, [d.rows, d.classes]);
        const y = tf.tensor2d(d.oneHot, [d.rows, d.classes]);
        return tf.losses.softmaxCrossEntropy(y, z, undefined, 0, tf.Reduction.NONE);
      });
      return { loss };
    },
    "categorical-probs": (d) => () => {
      const [loss] = run(() => {
        const p = tf.tensor2d(d.probabilities, [d.rows, d.classes]);
        const y = tf.tensor2d(d.oneHot, [d.rows, d.classes]);
        const normalized = tf.div(p, tf.sum(p, -1, true));
        const clipped = tf.clipByValue(normalized, 1e-7, 1 - 1e-7);
        return tf.neg(tf.sum(tf.mul(y, tf.log(clipped)), -1));
      });
      return { loss };
    },
    "log-sum-exp": (d) => () => {
      const [loss] = run(() =>
        tf.logSumExp(tf.tensor2d(d.logits, [d.rows, d.classes]), -1),
      );
      return { loss };
    },
    "sparse-logits-grad": (d) => () => {
      const [loss, grad] = run(sparseGrad(d));
      return { loss, grad };
    },
    "categorical-logits-grad": (d) => () => {
      const [loss, grad] = run(() => {
        const z = tf.tensor2d(d.logits, [d.rows, d.classes]);
        const y = tf.tensor2d(d.oneHot, [d.rows, d.classes]);
        const loss = (logits) =>
          tf.losses.softmaxCrossEntropy(y, logits, undefined, 0, tf.Reduction.NONE);
        const { value, grad } = tf.valueAndGrad(loss)(z);
        return [value, grad];
      });
      return { loss, grad };
    },
  };
  // Every adapter selects its backend first; tfjs keeps one active backend.
  return Object.fromEntries(
    Object.entries(adapters).map(([op, adapter]) => [
      op,
      async (d) => {
        await selectBackend();
        return adapter(d);
      },
    ]),
  );
}
