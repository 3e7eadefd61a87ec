// Stands in for the `mnist` package in the page's bundle: vite.config.ts
// maps the import "mnist" of examples/mnist/data.ts to this module. The
// package reads its JSON files with require(), which browsers lack, so the
// page fetches the packed digits and calls provideDigits() before it calls
// loadMnist(), which then splits them exactly as it does in Node.
import type { DigitSamples } from "./digits-format.js";

const digits: DigitSamples[] = [];

/** Fills this module's digit table. Call it once, before loadMnist(). */
export function provideDigits(decoded: readonly DigitSamples[]): void {
  digits.splice(0, digits.length, ...decoded);
}

export default digits;
