// Module resolve hook (runs on the loader thread; registered by ./register.mjs).
// Only imports of `fs` / `node:fs` made by files of @modelcontextprotocol/conformance are
// redirected; every other module, including the polyfill's own import of node:fs, resolves
// as usual.
const POLYFILL = new URL('./fs-with-glob-sync.mjs', import.meta.url).href;
const PACKAGE_DIR = '/node_modules/@modelcontextprotocol/conformance/';

export async function resolve(specifier, context, nextResolve) {
  if ((specifier === 'fs' || specifier === 'node:fs') && context.parentURL?.includes(PACKAGE_DIR)) {
    return { url: POLYFILL, shortCircuit: true };
  }
  return nextResolve(specifier, context);
}
