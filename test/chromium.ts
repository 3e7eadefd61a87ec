// How the tests start Chromium: the system build, so that nothing is
// downloaded. Set CHROMIUM_PATH to use another build.
export const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

// --no-sandbox lets Chromium start as root (CI runs as root), and the
// --disable-* flags keep it from contacting update, sync and other Google
// services during a run. Playwright creates a fresh profile for every launch
// and rejects --user-data-dir here.
export const chromiumArgs = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];
