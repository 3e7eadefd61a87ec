// Seeded synthetic inputs for one benchmark shape.

/** Returns a mulberry32 generator of floats in [0, 1). */
export function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Builds the inputs of one shape: logits with a spread like a trained
 * classifier's (sum of three uniforms, times 4), uniform class ids, the same
 * ids one-hot, unnormalized probabilities in (0, 1], and for rank 3 a mask
 * that pads each sequence after a random length in [time/2, time].
 * @param {number[]} shape - [batch, classes] or [batch, time, classes].
 * @param {{oneHot: boolean, probabilities: boolean}} needs - Which large extras to build.
 */
export function makeData(shape, needs, seed = 1) {
  const random = seededRandom(seed);
  const classes = shape[shape.length - 1];
  const rows = shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const logits = new Float32Array(rows * classes);
  for (let i = 0; i < logits.length; i++) {
    logits[i] = (random() + random() + random() - 1.5) * 4;
  }
  const labels = new Int32Array(rows);
  for (let i = 0; i < rows; i++) labels[i] = Math.floor(random() * classes);
  let oneHot = null;
  if (needs.oneHot) {
    oneHot = new Float32Array(rows * classes);
    for (let i = 0; i < rows; i++) oneHot[i * classes + labels[i]] = 1;
  }
  let probabilities = null;
  if (needs.probabilities) {
    probabilities = new Float32Array(rows * classes);
    for (let i = 0; i < probabilities.length; i++) {
      probabilities[i] = 1 - random();
    }
  }
  let mask = null;
  if (shape.length === 3) {
    const [batch, time] = shape;
    mask = new Float32Array(rows);
    for (let b = 0; b < batch; b++) {
      const length = time / 2 + Math.floor(random() * (time / 2 + 1));
      mask.fill(1, b * time, b * time + length);
    }
  }
  return {
    shape,
    rows,
    classes,
    elements: rows * classes,
    logits,
    labels,
    oneHot,
    probabilities,
    mask,
  };
}
