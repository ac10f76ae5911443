import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { WireCode } from '../../src/mcp/wire-errors.js';

/**
 * spec-notes/ against the code: every method, tool, notification and error code the relay
 * implements is described there, and everything the notes present as the relay's is in the
 * code. "Implemented" is read from src/ (comments stripped); "documented" from
 * spec-notes/*.md, where error codes count when they stand in a table row, and names the notes
 * list under a "Not implemented" heading count as not claimed.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));

/** Codes the SDK answers for the relay, which no code of ours sends: an unknown method. */
const ANSWERED_BY_THE_SDK = new Set([-32601]);
/** The one table of codes, and the body parser, which answers before any MCP routing (src/http may not import src/mcp). */
const CODE_FILES = new Set(['src/mcp/wire-errors.ts', 'src/http/errors.ts']);

function filesUnder(dir: string, ext: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return filesUnder(path, ext);
    return path.endsWith(ext) ? [path] : [];
  });
}

/** Source text without comments (a `//` after a colon is a URL, not a comment). */
function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

function matches(text: string, pattern: RegExp): string[] {
  return [...text.matchAll(pattern)].map((m) => m[1]!);
}

export interface Surface {
  methods: Set<string>;
  tools: Set<string>;
  notifications: Set<string>;
  codes: Map<number, string[]>;
}

export function implementedSurface(sources: { path: string; text: string }[]): Surface {
  const surface: Surface = { methods: new Set(), tools: new Set(), notifications: new Set(), codes: new Map() };
  for (const { path, text } of sources) {
    const code = withoutComments(text);
    for (const method of [
      ...matches(code, /setRequestHandler\(\s*'([^']+)'/g),
      ...matches(code, /\.method === '([a-z]+\/[a-zA-Z_/]+)'/g),
      ...matches(code, /isRequest\(\w+, '([^']+)'\)/g),
    ]) {
      (method.startsWith('notifications/') ? surface.notifications : surface.methods).add(method);
    }
    for (const tool of matches(code, /registerTool\(\s*'([^']+)'/g)) surface.tools.add(tool);
    for (const notification of matches(code, /['"`](notifications\/[a-z_]+(?:\/[a-z0-9_]+)?)/g)) surface.notifications.add(notification);
    for (const literal of matches(code, /(-32\d{3})\b/g)) {
      const files = surface.codes.get(Number(literal)) ?? [];
      surface.codes.set(Number(literal), [...new Set([...files, path])]);
    }
  }
  return surface;
}

export interface Notes {
  text: string;
  /** Codes standing in a table row. */
  codes: Set<number>;
  /** `events/…` and `notifications/events/…` names the notes present as the relay's. */
  eventNames: Set<string>;
  /** Names listed under a "Not implemented" heading. */
  notImplemented: Set<string>;
}

export function documentedSurface(pages: string[]): Notes {
  const text = pages.join('\n');
  const codes = new Set(
    text
      .split('\n')
      .filter((line) => /^\s*\|/.test(line))
      .flatMap((line) => matches(line, /(-32\d{3})\b/g).map(Number)),
  );
  const names = (part: string) => new Set([...matches(part, /`((?:notifications\/)?events\/[a-z0-9_]+)/g), ...matches(part, /"method":"((?:notifications\/)?events\/[a-z0-9_]+)"/g)]);
  const notImplemented = new Set(pages.flatMap((page) => matches(page, /^## Not implemented\n([\s\S]*?)(?=^## |(?![\s\S]))/gm).flatMap((part) => [...names(part)])));
  return { text, codes, eventNames: new Set([...names(text)].filter((name) => !notImplemented.has(name))), notImplemented };
}

/** Every difference between the code and the notes, in words; empty when they agree. */
export function differences(surface: Surface, notes: Notes): string[] {
  const mentioned = (name: string) => new RegExp(`(^|[^a-zA-Z_/])${name.replace(/[/]/g, '\\/')}($|[^a-zA-Z_/])`).test(notes.text);
  const found: string[] = [];
  for (const name of [...surface.methods, ...surface.tools, ...surface.notifications].sort()) {
    if (!mentioned(name)) found.push(`implemented but not in spec-notes: ${name}`);
  }
  const implemented = new Set([...surface.methods, ...surface.notifications]);
  for (const name of [...notes.eventNames].sort()) {
    if (!implemented.has(name)) found.push(`in spec-notes but not implemented: ${name}`);
  }
  for (const name of [...notes.notImplemented].sort()) {
    if (implemented.has(name)) found.push(`spec-notes says "not implemented", but it is: ${name}`);
  }
  for (const code of [...surface.codes.keys()].sort()) {
    if (!notes.codes.has(code)) found.push(`error code sent but in no spec-notes table: ${code}`);
  }
  for (const code of [...notes.codes].sort()) {
    if (!surface.codes.has(code) && !ANSWERED_BY_THE_SDK.has(code)) found.push(`error code in a spec-notes table but never sent: ${code}`);
  }
  for (const [code, files] of surface.codes) {
    for (const file of files) if (!CODE_FILES.has(file)) found.push(`error code ${code} written outside the WireCode table: ${file}`);
  }
  return found;
}

const sources = () => filesUnder(join(root, 'src'), '.ts').map((path) => ({ path: relative(root, path), text: readFileSync(path, 'utf8') }));
const pages = () => filesUnder(join(root, 'spec-notes'), '.md').map((path) => readFileSync(path, 'utf8'));

describe('spec-notes/ and the code', () => {
  it('name the same methods, tools, notifications and error codes', () => {
    expect(differences(implementedSurface(sources()), documentedSurface(pages()))).toEqual([]);
  });

  it('reads every code of the WireCode table as implemented', () => {
    const codes = implementedSurface(sources()).codes;
    for (const code of Object.values(WireCode)) expect(codes.get(code)).toEqual(['src/mcp/wire-errors.ts']);
  });

  it('reports a method, a notification and an error code left out of the notes, and a stale "not implemented"', () => {
    const notes = pages().map((page) =>
      page
        .replaceAll('events/poll', 'events/p0ll')
        .replaceAll('notifications/events/terminated', 'notifications/events/t3rminated')
        .replaceAll('-32021', '-3202l')
        .replace('## Not implemented\n', '## Not implemented\n\n- `events/stream`\n'),
    );
    expect(differences(implementedSurface(sources()), documentedSurface(notes))).toEqual(
      expect.arrayContaining([
        'implemented but not in spec-notes: events/poll',
        'implemented but not in spec-notes: notifications/events/terminated',
        'in spec-notes but not implemented: events/p0ll',
        'in spec-notes but not implemented: notifications/events/t3rminated',
        'error code sent but in no spec-notes table: -32021',
        'spec-notes says "not implemented", but it is: events/stream',
      ]),
    );
  });

  it('reports an error code written outside the table', () => {
    const stray = [...sources(), { path: 'src/mcp/stray.ts', text: "const answer = { code: -32013, message: 'full' };" }];
    expect(differences(implementedSurface(stray), documentedSurface(pages()))).toContain('error code -32013 written outside the WireCode table: src/mcp/stray.ts');
  });
});
