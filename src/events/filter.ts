import { z } from 'zod';
import type { Event } from './event.js';

/**
 * Which events a reader wants. Each list is a set of alternatives; an absent or empty list
 * matches everything. Every entry is an exact value or a glob in which `*` matches any run
 * of characters, dots included (`payment.*` matches `payment.failed`; `*` matches all).
 * All lists must match for an event to match.
 */
export interface EventFilter {
  types?: string[];
  sources?: string[];
  subjects?: string[];
}

const pattern = z.string().min(1).max(200);
export const eventFilterSchema = z
  .object({
    types: z.array(pattern).max(100).optional(),
    sources: z.array(pattern).max(100).optional(),
    subjects: z.array(pattern).max(100).optional(),
  })
  .strict();

export type EventMatcher = (event: Pick<Event, 'type' | 'source' | 'subject'>) => boolean;

type FieldMatcher = (value: string | undefined) => boolean;

const matchAll: FieldMatcher = () => true;

function compileField(patterns: readonly string[] | undefined): FieldMatcher {
  if (!patterns || patterns.length === 0 || patterns.includes('*')) return matchAll;
  const exact = new Set(patterns.filter((p) => !p.includes('*')));
  const globs = patterns.filter((p) => p.includes('*')).map(globMatcher);
  return (value) => value !== undefined && (exact.has(value) || globs.some((matches) => matches(value)));
}

/**
 * A glob as literal parts between stars, matched without backtracking: the first part is a
 * prefix, the last a suffix, and each part between takes its leftmost place after the one
 * before (leftmost is always as good as any later place when only `*` is special). Time is
 * bounded by the value's length times the pattern's, so no pattern — `****…!` included,
 * which made a regular expression backtrack for hours — can stall the relay.
 */
function globMatcher(glob: string): (value: string) => boolean {
  const parts = glob.split('*');
  const first = parts[0]!;
  const last = parts.at(-1)!;
  const middle = parts.slice(1, -1).filter((part) => part !== '');
  return (value) => {
    if (value.length < first.length + last.length || !value.startsWith(first) || !value.endsWith(last)) return false;
    const end = value.length - last.length;
    let at = first.length;
    for (const part of middle) {
      const found = value.indexOf(part, at);
      if (found < 0 || found + part.length > end) return false;
      at = found + part.length;
    }
    return true;
  };
}

/** Compiles a filter once into the matcher every reader (log, groups, push, feed) uses. */
export function compileFilter(filter: EventFilter | undefined): EventMatcher {
  if (!filter) return () => true;
  const type = compileField(filter.types);
  const source = compileField(filter.sources);
  const subject = compileField(filter.subjects);
  if (type === matchAll && source === matchAll && subject === matchAll) return () => true;
  return (event) => type(event.type) && source(event.source) && subject(event.subject);
}
