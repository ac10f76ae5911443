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
  const globs = patterns.filter((p) => p.includes('*')).map(globToRegExp);
  return (value) => value !== undefined && (exact.has(value) || globs.some((re) => re.test(value)));
}

function globToRegExp(glob: string): RegExp {
  const body = glob
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`, 's');
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
