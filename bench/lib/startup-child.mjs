// Child process for the start-up measurement. It imports one implementation
// and computes one sparse crossentropy from logits on [64, 1000]. Then it
// prints, as one JSON line, the time from the start of the import to that
// result and the resident set size after it.
// Usage: node startup-child.mjs NAME

import { seededRandom } from "./data.mjs";

const ROWS = 64;
const CLASSES = 1000;
const random = seededRandom(7);
const logits = Float32Array.from({ length: ROWS * CLASSES }, () => random() * 8 - 4);
const labels = Int32Array.from({ length: ROWS }, () => Math.floor(random() * CLASSES));

const implementations = {
  "bare Node": async () => new Float32Array(ROWS),
  "plain JS": async () => {
    const plain = await import("./plain-js.mjs");
    return plain.sparseFromLogits(logits, labels, ROWS, CLASSES, null, new Float32Array(ROWS));
  },
  "wasm-xent": async () => {
    const x = await import("../../dist/index.js");
    return x.sparseCategoricalCrossentropy(labels, logits, {
      fromLogits: true,
      shape: [ROWS, CLASSES],
    });
  },
  "onnxruntime-node": async () => {
    const ort = await import("onnxruntime-node");
    const models = await import("./onnx-model.mjs");
    const session = await ort.InferenceSession.create(
      models.sparseCrossentropyModel(ROWS, CLASSES),
      { intraOpNumThreads: 1, interOpNumThreads: 1 },
    );
    const result = await session.run({
      scores: new ort.Tensor("float32", logits, [ROWS, CLASSES]),
      labels: new ort.Tensor("int32", labels, [ROWS]),
    });
    return result.loss.data;
  },
  "tfjs-backend-wasm": () => tfjs("wasm", "@tensorflow/tfjs-backend-wasm"),
  "tfjs-backend-cpu": () => tfjs("cpu", "@tensorflow/tfjs-backend-cpu"),
};

async function tfjs(backend, backendPackage) {
  const tf = await import("@tensorflow/tfjs-core");
  await import(backendPackage);
  tf.env().set("PROD", true);
  await tf.setBackend(backend);
  const loss = tf.tidy(() => {
    const z = tf.tensor2d(logits, [ROWS, CLASSES]);
    const y = tf.oneHot(tf.tensor1d(labels, "int32"), CLASSES);
    return tf.losses.softmaxCrossEntropy(y, z, undefined, 0, tf.Reduction.NONE);
  });
  return loss.dataSync();
}

const name = process.argv[2];
const start = performance.now();
const result = await implementations[name]();
const ms = performance.now() - start;
if (result.length !== ROWS || !Number.isFinite(result[0])) {
  throw new Error(`${name} returned an invalid result: ${result[0]}`);
}
console.log(JSON.stringify({ name, ms, rss: process.memoryUsage().rss }));
