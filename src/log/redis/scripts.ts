import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

/**
 * The Lua scripts of the Redis log, kept as `.lua` files in `scripts/` beside this module.
 * The build copies them beside the compiled module (`scripts/copy-lua.mjs`), so the same
 * relative path serves a run from `src` (tsx, vitest) and from `dist`.
 */
const FOLDER = new URL('./scripts/', import.meta.url);
const LIBRARY = 'group-lib.lua';
const SCRIPTS = {
  append: { file: 'append.lua', withLibrary: false },
  read: { file: 'read.lua', withLibrary: false },
  trim: { file: 'trim.lua', withLibrary: false },
  createGroup: { file: 'create-group.lua', withLibrary: false },
  claim: { file: 'claim.lua', withLibrary: true },
  peek: { file: 'peek.lua', withLibrary: true },
  settle: { file: 'settle.lua', withLibrary: true },
  groupState: { file: 'group-state.lua', withLibrary: true },
  seekGroup: { file: 'seek-group.lua', withLibrary: true },
  deleteGroup: { file: 'delete-group.lua', withLibrary: false },
  deadLetters: { file: 'dead-letters.lua', withLibrary: true },
  replay: { file: 'replay.lua', withLibrary: true },
  deliveriesOf: { file: 'deliveries-of.lua', withLibrary: false },
} as const;

export type ScriptName = keyof typeof SCRIPTS;
export type RunScript = (keys: readonly string[], args: readonly (string | number)[]) => Promise<unknown>;

let sources: Map<ScriptName, { lua: string; numberOfKeys: number }> | undefined;

/** Reads every script once per process; the number of keys comes from its `KEYS[n]` header. */
function loadSources(): Map<ScriptName, { lua: string; numberOfKeys: number }> {
  if (sources) return sources;
  const library = readFileSync(new URL(LIBRARY, FOLDER), 'utf8');
  sources = new Map();
  for (const [name, { file, withLibrary }] of Object.entries(SCRIPTS) as [ScriptName, (typeof SCRIPTS)[ScriptName]][]) {
    const text = readFileSync(new URL(file, FOLDER), 'utf8');
    const numberOfKeys = Math.max(...[...text.matchAll(/KEYS\[(\d+)\]/g)].map((m) => Number(m[1])));
    sources.set(name, { lua: withLibrary ? `${library}\n${text}` : text, numberOfKeys });
  }
  return sources;
}

/** Defines the scripts on a connection (EVALSHA, reloaded by ioredis after a server restart). */
export function defineScripts(redis: Redis): Record<ScriptName, RunScript> {
  const commands = redis as unknown as Record<string, (...args: (string | number)[]) => Promise<unknown>>;
  const runners = {} as Record<ScriptName, RunScript>;
  for (const [name, { lua, numberOfKeys }] of loadSources()) {
    redis.defineCommand(`relay_${name}`, { numberOfKeys, lua });
    runners[name] = (keys, args) => {
      if (keys.length !== numberOfKeys) throw new Error(`script ${name} takes ${numberOfKeys} keys`);
      return commands[`relay_${name}`]!(...keys, ...args);
    };
  }
  return runners;
}
