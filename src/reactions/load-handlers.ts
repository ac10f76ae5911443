import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { checkHandlers, type ReactionHandler } from './handler.js';

/**
 * Imports user handler modules (`RELAY_HANDLERS`): each exports `handlers`, an array of
 * `{ name, on, handle(event, ctx) }` (or a default export of one). Paths are relative to
 * the working directory. A module that does not load or export handlers stops the start.
 */
export async function loadHandlerModules(paths: readonly string[]): Promise<ReactionHandler[]> {
  const loaded: ReactionHandler[] = [];
  for (const path of paths) {
    let module: { handlers?: unknown; default?: unknown };
    try {
      module = (await import(pathToFileURL(resolve(path)).href)) as typeof module;
    } catch (error) {
      throw new Error(`RELAY_HANDLERS: cannot load ${path}: ${(error as Error).message}`, { cause: error });
    }
    const exported = module.handlers ?? module.default;
    if (!Array.isArray(exported)) throw new Error(`RELAY_HANDLERS: ${path} must export "handlers", an array of handlers`);
    loaded.push(...checkHandlers(exported, `RELAY_HANDLERS: ${path}`));
  }
  return loaded;
}
