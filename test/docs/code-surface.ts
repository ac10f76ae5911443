import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { loadConfig } from '../../src/config.js';

/**
 * What the code offers an operator, read from the code itself for the docs checks: the
 * environment variables it reads and the CLI's commands.
 */

/**
 * Every environment variable `loadConfig` reads, recorded by handing it an environment
 * that notes each lookup: its settings, and the webhook secret of every source — the
 * built-in ones and those `sources` declares (`RELAY_SOURCES`, e.g. `acme:standard`).
 */
export function configVariables(sources = ''): Set<string> {
  const read = new Set<string>();
  const env = new Proxy<NodeJS.ProcessEnv>(sources ? { RELAY_SOURCES: sources } : {}, {
    get(target, key) {
      if (typeof key === 'string') read.add(key);
      return Reflect.get(target, key);
    },
  });
  loadConfig(env);
  return read;
}

/**
 * The environment variables the TypeScript under `folders` reads by name
 * (`process.env.X`, `env.X`, `env?.X`, `env['X']`), each with the first file that reads it.
 */
export function codeVariables(root: string, folders: string[]): Map<string, string> {
  const found = new Map<string, string>();
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? walk(path) : path.endsWith('.ts') ? [path] : [];
    });
  for (const file of folders.flatMap((folder) => walk(join(root, folder)))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\benv(?:\?\.|\.)([A-Z][A-Z0-9_]*)\b|\benv\[\s*(['"`])([A-Z][A-Z0-9_]*)\2\s*\]/g)) {
      const name = m[1] ?? m[3]!;
      if (!found.has(name)) found.set(name, relative(root, file));
    }
  }
  return found;
}

/** The commands `src/cli.ts` dispatches: the keys of its `commands` table. */
export function cliCommands(root: string): string[] {
  const text = readFileSync(join(root, 'src/cli.ts'), 'utf8');
  const table = /^const commands\b.*=\s*\{\n([\s\S]*?)\n\};/m.exec(text)?.[1];
  if (table === undefined) throw new Error('src/cli.ts has no `const commands = { … };` table');
  return [...table.matchAll(/^\s*([a-z][\w-]*)\s*[,:]/gm)].map((m) => m[1]!);
}

/** The forms `RELAY_STORE` takes, as config's refusal of a bad one lists them (`sqlite:`, `memory`, `redis://`, …). */
export function storeForms(): string[] {
  let message = '';
  try {
    loadConfig({ RELAY_STORE: 'no-such-store' });
  } catch (error) {
    message = (error as Error).message;
  }
  const list = /expected (.*)$/.exec(message)?.[1];
  if (list === undefined) throw new Error(`RELAY_STORE=no-such-store was not refused with "expected …": ${message}`);
  return list.split(/, | or /).map((form) => /^[a-z]+(:\/\/|:)?/.exec(form)![0]);
}
