// Builds small ONNX models as protobuf bytes, so that the onnxruntime peer
// needs no Python. Field numbers are those of onnx.proto (ONNX 1.8, IR 7).

const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

/** Element types of onnx.TensorProto.DataType used here. */
export const TensorType = { FLOAT: 1, INT32: 6, INT64: 7 };

const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, INTS: 7 };

/** Appends protobuf fields to a growing byte list. */
class ProtoWriter {
  bytes = [];

  varint(value) {
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      this.bytes.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.bytes.push(Number(v));
    return this;
  }

  tag(field, wireType) {
    return this.varint((field << 3) | wireType);
  }

  int(field, value) {
    return this.tag(field, WIRE_VARINT).varint(value);
  }

  float(field, value) {
    this.tag(field, WIRE_FIXED32);
    const view = new DataView(new ArrayBuffer(4));
    view.setFloat32(0, value, true);
    for (let i = 0; i < 4; i++) this.bytes.push(view.getUint8(i));
    return this;
  }

  raw(field, bytes) {
    this.tag(field, WIRE_LENGTH_DELIMITED).varint(bytes.length);
    for (const b of bytes) this.bytes.push(b);
    return this;
  }

  string(field, text) {
    return this.raw(field, new TextEncoder().encode(text));
  }

  message(field, writer) {
    return this.raw(field, writer.bytes);
  }

  finish() {
    return Uint8Array.from(this.bytes);
  }
}

function attribute(name, value) {
  const w = new ProtoWriter().string(1, name);
  if (typeof value === "string") {
    w.raw(4, new TextEncoder().encode(value)).int(20, AttributeType.STRING);
  } else if (Array.isArray(value)) {
    for (const v of value) w.int(8, v);
    w.int(20, AttributeType.INTS);
  } else if (Number.isInteger(value)) {
    w.int(3, value).int(20, AttributeType.INT);
  } else {
    w.float(2, value).int(20, AttributeType.FLOAT);
  }
  return w;
}

/**
 * Encodes one NodeProto.
 * @param {string} opType - Operator name, such as "SoftmaxCrossEntropyLoss".
 * @param {string[]} inputs - Input value names; "" skips an optional input.
 * @param {string[]} outputs - Output value names.
 * @param {Record<string, number|string|number[]>} attributes - Integers become INT, other numbers FLOAT.
 */
function node(opType, inputs, outputs, attributes = {}) {
  const w = new ProtoWriter();
  for (const name of inputs) w.string(1, name);
  for (const name of outputs) w.string(2, name);
  w.string(4, opType);
  for (const [name, value] of Object.entries(attributes)) {
    w.message(5, attribute(name, value));
  }
  return w;
}

/** Encodes a ValueInfoProto of a tensor with fixed dimensions. */
function valueInfo(name, elemType, dims) {
  const shape = new ProtoWriter();
  for (const d of dims) shape.message(1, new ProtoWriter().int(1, d));
  const tensorType = new ProtoWriter().int(1, elemType).message(2, shape);
  const type = new ProtoWriter().message(1, tensorType);
  return new ProtoWriter().string(1, name).message(2, type);
}

/** Encodes a TensorProto initializer holding int64 or float values. */
function initializer(name, elemType, dims, values) {
  const w = new ProtoWriter();
  for (const d of dims) w.int(1, d);
  w.int(2, elemType);
  if (elemType === TensorType.INT64) {
    const packed = new ProtoWriter();
    for (const v of values) packed.varint(v);
    w.raw(7, packed.bytes);
  } else {
    const raw = new Uint8Array(Float32Array.from(values).buffer);
    w.raw(9, raw);
  }
  return w.string(8, name);
}

/**
 * Encodes a ModelProto with one graph at the given default-domain opset.
 * @param {{nodes: ProtoWriter[], inputs: ProtoWriter[], outputs: ProtoWriter[], initializers?: ProtoWriter[]}} graph
 * @returns {Uint8Array} Model bytes for `InferenceSession.create`.
 */
function model(graph, opset = 13) {
  const g = new ProtoWriter();
  for (const n of graph.nodes) g.message(1, n);
  g.string(2, "bench");
  for (const t of graph.initializers ?? []) g.message(5, t);
  for (const v of graph.inputs) g.message(11, v);
  for (const v of graph.outputs) g.message(12, v);
  const opsetId = new ProtoWriter().string(1, "").int(2, opset);
  return new ProtoWriter()
    .int(1, 7)
    .string(2, "wasm-xent-bench")
    .message(7, g)
    .message(8, opsetId)
    .finish();
}

/**
 * Model of ONNX SoftmaxCrossEntropyLoss (opset 13, reduction "none"):
 * inputs `scores` f32 [rows, classes] and `labels` i32 [rows], output
 * `loss` f32 [rows]. Rows whose label equals `ignoreIndex` get loss 0.
 */
export function sparseCrossentropyModel(rows, classes, ignoreIndex = -1) {
  return model({
    nodes: [
      node("SoftmaxCrossEntropyLoss", ["scores", "labels"], ["loss"], {
        reduction: "none",
        ignore_index: ignoreIndex,
      }),
    ],
    inputs: [
      valueInfo("scores", TensorType.FLOAT, [rows, classes]),
      valueInfo("labels", TensorType.INT32, [rows]),
    ],
    outputs: [valueInfo("loss", TensorType.FLOAT, [rows])],
  });
}

/**
 * Model of categorical crossentropy from logits, -sum(y * LogSoftmax(z)) over
 * the last axis: inputs `scores` and `target` f32 [rows, classes], output
 * `loss` f32 [rows]. ONNX has no single operator for soft targets.
 */
export function categoricalCrossentropyModel(rows, classes) {
  return model({
    nodes: [
      node("LogSoftmax", ["scores"], ["logProb"], { axis: -1 }),
      node("Mul", ["target", "logProb"], ["terms"]),
      node("ReduceSum", ["terms", "axes"], ["negLoss"], { keepdims: 0 }),
      node("Neg", ["negLoss"], ["loss"]),
    ],
    initializers: [initializer("axes", TensorType.INT64, [1], [-1])],
    inputs: [
      valueInfo("scores", TensorType.FLOAT, [rows, classes]),
      valueInfo("target", TensorType.FLOAT, [rows, classes]),
    ],
    outputs: [valueInfo("loss", TensorType.FLOAT, [rows])],
  });
}

/**
 * Model of ONNX ReduceLogSumExp over the last axis (opset 13 takes axes as
 * an attribute): input `x` f32 [rows, classes], output `lse` f32 [rows].
 */
export function logSumExpModel(rows, classes) {
  return model({
    nodes: [
      node("ReduceLogSumExp", ["x"], ["lse"], { axes: [-1], keepdims: 0 }),
    ],
    inputs: [valueInfo("x", TensorType.FLOAT, [rows, classes])],
    outputs: [valueInfo("lse", TensorType.FLOAT, [rows])],
  });
}

/**
 * Model of categorical crossentropy from probabilities as Keras computes it:
 * p / sum(p), clipped to [1e-7, 1 - 1e-7], then -sum(y * log(p)).
 */
export function categoricalFromProbabilitiesModel(rows, classes) {
  return model({
    nodes: [
      node("ReduceSum", ["probs", "axes"], ["rowSum"], { keepdims: 1 }),
      node("Div", ["probs", "rowSum"], ["normalized"]),
      node("Clip", ["normalized", "low", "high"], ["clipped"]),
      node("Log", ["clipped"], ["logProb"]),
      node("Mul", ["target", "logProb"], ["terms"]),
      node("ReduceSum", ["terms", "axes"], ["negLoss"], { keepdims: 0 }),
      node("Neg", ["negLoss"], ["loss"]),
    ],
    initializers: [
      initializer("axes", TensorType.INT64, [1], [-1]),
      initializer("low", TensorType.FLOAT, [], [1e-7]),
      initializer("high", TensorType.FLOAT, [], [1 - 1e-7]),
    ],
    inputs: [
      valueInfo("probs", TensorType.FLOAT, [rows, classes]),
      valueInfo("target", TensorType.FLOAT, [rows, classes]),
    ],
    outputs: [valueInfo("loss", TensorType.FLOAT, [rows])],
  });
}
