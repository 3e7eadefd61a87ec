// Resolve hook that lets Node load the ES module build of
// @tensorflow/tfjs-core/dist/register_all_gradients.js, whose relative
// imports omit the ".js" extension. The gradients register themselves in a
// registry that tfjs keeps on globalThis, so the CommonJS build that the
// backends use sees them too.
export async function resolve(specifier, context, nextResolve) {
  const fromTfjsCore = context.parentURL?.includes("/@tensorflow/tfjs-core/dist/");
  if (fromTfjsCore && specifier.startsWith(".") && !specifier.endsWith(".js")) {
    return nextResolve(specifier + ".js", context);
  }
  return nextResolve(specifier, context);
}
