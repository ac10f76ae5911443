import { type EventFilter, eventFilterSchema } from '../events/filter.js';

const FILTER_FIELDS = ['types', 'sources', 'subjects'] as const;

/** `a,b` and repeated parameters alike; blanks dropped, so `types=` means no filter. */
export function listOf(value: unknown): string[] | undefined {
  const parts = (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');
  const items = parts.flatMap((part) => part.split(',')).map((item) => item.trim()).filter(Boolean);
  return items.length > 0 ? items : undefined;
}

/**
 * The event filter of a query string (`types`, `sources`, `subjects`: comma lists of exact
 * values or `*` globs, as for every reader), or why it is refused.
 */
export function filterOfQuery(query: Record<string, unknown>): { filter: EventFilter } | { message: string } {
  const candidate: Record<string, string[]> = {};
  for (const field of FILTER_FIELDS) {
    const list = listOf(query[field]);
    if (list) candidate[field] = list;
  }
  const filter = eventFilterSchema.safeParse(candidate);
  if (filter.success) return { filter: filter.data };
  const issue = filter.error.issues[0]!;
  return { message: `${String(issue.path[0])}: at most 100 patterns of 1 to 200 characters each` };
}
