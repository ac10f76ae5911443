import type { ApiAnswer } from './operator-api.js';
import { isEventId, type PositionFlag, parsePositionFlag } from './position-flag.js';
import { listFlag } from './relay-flags.js';

/**
 * What each operator subcommand declares (its flags, arguments, help) and the flag readers
 * they share. A subcommand checks the form of what it is given (ids, times, numbers, which
 * flags go together) and throws a {@link FlagError} before asking the relay anything; the
 * relay checks the rest (ranges, names, rights).
 */

/** A command line the subcommand cannot run: one line, exit 2. */
export class FlagError extends Error {}

/** The flags as `parseArgs` gives them. */
export type FlagValues = Record<string, string | boolean | undefined>;

/** One request to the relay's operator API. */
export type Request = <T>(method: string, path: string, body?: unknown) => Promise<ApiAnswer<T>>;

/** What a subcommand prints: for people, for scripts (`--json`), and a note for stderr. */
export interface Printed {
  text: string;
  json: string;
  note?: string;
}

export interface Subcommand {
  /** What follows `mcp-event-relay` in its usage line. */
  synopsis: string;
  /** One line for the command's own help. */
  summary: string;
  /** What it does and its own options. */
  help: string;
  flags: Record<string, { type: 'string' | 'boolean' }>;
  /** The names of its positional arguments, all required. */
  args: string[];
  run(input: { flags: FlagValues; args: string[]; now: number }, request: Request): Promise<Printed>;
}

/** A string flag's value, if it was given. */
export function stringFlag(flags: FlagValues, name: string): string | undefined {
  const value = flags[name];
  return typeof value === 'string' ? value : undefined;
}

/** `--limit N`: a whole number above 0 (the relay says how many it allows). */
export function limitFlag(flags: FlagValues): number | undefined {
  const text = stringFlag(flags, 'limit');
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new FlagError(`--limit must be a whole number above 0, not "${text.slice(0, 20)}"`);
  return Number(text);
}

/** `--ids a,b`: event ids. */
export function idsFlag(flags: FlagValues): string[] | undefined {
  const ids = listFlag(stringFlag(flags, 'ids'));
  const wrong = ids?.find((id) => !isEventId(id));
  if (wrong !== undefined) throw new FlagError(`--ids takes event ids (26-character ULIDs), not "${wrong.slice(0, 40)}"`);
  return ids;
}

/** A position flag (`--after`, `--before`, `--to`) if it was given. */
export function positionFlag(flags: FlagValues, name: string, now: number): PositionFlag | undefined {
  const text = stringFlag(flags, name);
  if (text === undefined) return undefined;
  try {
    return parsePositionFlag(`--${name}`, text, now);
  } catch (error) {
    throw new FlagError((error as Error).message);
  }
}

/** `--types`, `--sources`, `--subjects` as an event filter; undefined when none is given. */
export function filterFlags(flags: FlagValues): { types?: string[]; sources?: string[]; subjects?: string[] } | undefined {
  const filter = Object.fromEntries(
    (['types', 'sources', 'subjects'] as const).flatMap((name) => {
      const items = listFlag(stringFlag(flags, name));
      return items ? [[name, items]] : [];
    }),
  );
  return Object.keys(filter).length > 0 ? filter : undefined;
}

/** The filter flags' declarations. */
export const FILTER_FLAGS = { types: { type: 'string' }, sources: { type: 'string' }, subjects: { type: 'string' } } as const;
