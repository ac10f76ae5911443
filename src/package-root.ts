import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A file shipped in the package beside the compiled code (Lua scripts, which the TypeScript
 * build does not copy), found from `moduleUrl` by walking up to `package.json`: the same
 * path serves a run from `src` (tsx, vitest) and from `dist`.
 */
export function packageFile(moduleUrl: string, ...segments: string[]): string {
  let dir = dirname(fileURLToPath(moduleUrl));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the package root holding ${segments.join('/')}`);
    dir = parent;
  }
  return join(dir, ...segments);
}
