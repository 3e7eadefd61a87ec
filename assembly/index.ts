// Every kernel takes pointers into linear memory, allocates nothing and keeps
// no mutable global state, so one module can serve workers that share a
// memory. The caller owns the memory layout.

export {
  checkProbabilities,
  crossentropySparseLogits,
  crossentropySparseLogitsWithGradient,
  crossentropySparseProbabilities,
  crossentropySparseProbabilitiesWithGradient,
  crossentropyDenseLogits,
  crossentropyDenseLogitsWithGradient,
  crossentropyDenseProbabilities,
  crossentropyDenseProbabilitiesWithGradient,
  focalSparseLogits,
  focalSparseLogitsWithGradient,
  focalSparseProbabilities,
  focalSparseProbabilitiesWithGradient,
  focalDenseLogits,
  focalDenseLogitsWithGradient,
  focalDenseProbabilities,
  focalDenseProbabilitiesWithGradient,
  SCRATCH_BYTES,
} from "./crossentropy";
export { logSumExpRows, softmaxRows } from "./log-sum-exp";
export { transpose } from "./transpose";
export { expValues, logValues } from "./testing";

/** Returns the first byte after static data, where the caller's arena may start. */
export function heapBase(): usize {
  return __heap_base;
}
