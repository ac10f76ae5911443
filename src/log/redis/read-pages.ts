import { compileFilter } from '../../events/filter.js';
import type { ReadOptions } from '../event-log.js';
import { parseReadOptions } from '../read.js';
import { MAX_SCAN_ROWS } from '../scan.js';

/** One stream entry, routable without decoding its JSON. */
export interface StoredRow {
  pos: number;
  id: string;
  type: string;
  source: string;
  subject: string | undefined;
  body: string;
}

/** A stream entry as XRANGE returns it: `[entry id, ['e', value]]` (see `redis-keys.ts`). */
export type StreamEntry = [string, string[]];

export interface PageSource {
  /** read.lua: `[start pos, truncated 0|1, head or '', first entries]`. */
  first(count: number): Promise<unknown>;
  next(afterPos: number, count: number): Promise<StreamEntry[]>;
}

const PAGE_ROWS = 1000;

function toRow([entryId, [, value]]: StreamEntry): StoredRow {
  const newline = value!.indexOf('\n');
  const [id, type, source, subject] = JSON.parse(value!.slice(0, newline)) as [string, string, string, string?];
  return { pos: Number.parseInt(entryId, 10), id, type, source, subject, body: value!.slice(newline + 1) };
}

/**
 * A read, page by page: the cursor is resolved with the first page in one script, later
 * pages continue by position. Positions are contiguous, so a page that does not start
 * right after the previous one means a trim raced the read: it stops there, and the next
 * read from the returned cursor reports the truncation.
 */
export async function readPages<T>(
  options: ReadOptions,
  pick: (row: StoredRow) => T,
  source: PageSource,
) {
  const { after, filter, limit } = parseReadOptions(options);
  const matches = compileFilter(filter);
  const [, truncatedFlag, head, firstEntries] = (await source.first(PAGE_ROWS)) as [number, number, string, StreamEntry[]];
  const truncated = truncatedFlag === 1;
  const events: T[] = [];
  let last: StoredRow | undefined;
  let entries = firstEntries;
  let examined = 0;
  let hasMore = false;
  for (;;) {
    for (const entry of entries) {
      const row = toRow(entry);
      last = row;
      examined++;
      if (matches(row)) events.push(pick(row));
      if (events.length === limit) break;
    }
    if (events.length === limit || examined >= MAX_SCAN_ROWS) {
      hasMore = true;
      break;
    }
    if (entries.length < PAGE_ROWS) break;
    const from = last!.pos;
    entries = await source.next(from, Math.min(PAGE_ROWS, MAX_SCAN_ROWS - examined));
    if (entries.length > 0 && toRow(entries[0]!).pos !== from + 1) {
      hasMore = true;
      break;
    }
  }
  const cursor = last?.id ?? (truncated ? head || null : after);
  return { events, cursor, truncated, hasMore };
}
