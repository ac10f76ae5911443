import { compileFilter } from '../../events/filter.js';
import { LOG_START } from '../../events/ulid.js';
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

/**
 * A stream entry as XRANGE returns it, fetched as Buffers: `[entry id, ['e', value]]` (see
 * `keys.ts`). Only the value is decoded as text, once.
 */
export type StreamEntry = [Buffer, Buffer[]];

/** read.lua's reply: `[start pos, truncated 0|1, head or '', last trimmed pos, head pos, last trimmed id or '']`. */
export type CursorReply = [number, number, string, number, number, string];

export interface PageSource {
  resolve(): Promise<CursorReply>;
  /** Entries after a position, at most `count`. */
  page(afterPos: number, count: number): Promise<StreamEntry[]>;
}

const PAGE_ROWS = 250;

function entryPos([entryId]: StreamEntry): number {
  return Number.parseInt(entryId.toString('latin1'), 10);
}

/** An entry as a row: its header decoded, its JSON kept as text. */
export function toRow(entry: StreamEntry): StoredRow {
  const value = entry[1][1]!.toString('utf8');
  const newline = value.indexOf('\n');
  const [id, type, source, subject] = JSON.parse(value.slice(0, newline)) as [string, string, string, string?];
  return { pos: entryPos(entry), id, type, source, subject, body: value.slice(newline + 1) };
}

/**
 * The cursor resolved, and the first page after it. Resolving and reading are two calls, so
 * a trim can slip between them. Positions are contiguous and trims cut from the oldest, so
 * a page that does not start where the resolution said is either such a race (the last
 * trimmed position moved: resolve again) or the store's own state, read as it is.
 */
async function firstPage(source: PageSource) {
  let resolved = await source.resolve();
  for (;;) {
    const [pos, truncated, head, trimmedPos, headPos, trimmed] = resolved;
    const after = pos > 0 ? pos : trimmedPos;
    const entries = await source.page(after, PAGE_ROWS);
    const page = { truncated: truncated === 1, head, entries, resumedAt: trimmed || LOG_START };
    if (entries.length > 0 ? entryPos(entries[0]!) === after + 1 : headPos <= after) return page;
    resolved = await source.resolve();
    if (resolved[3] === trimmedPos) return page;
  }
}

/**
 * A read, page by page: the cursor is resolved first, then pages continue by position.
 * Positions are contiguous, so a later page that does not start right after the previous
 * one means a trim raced the read: it stops there, and the next read from the returned
 * cursor reports the truncation.
 */
export async function readPages<T>(
  options: ReadOptions,
  pick: (row: StoredRow) => T,
  source: PageSource,
) {
  const { after, filter, limit } = parseReadOptions(options);
  const matches = compileFilter(filter);
  const first = await firstPage(source);
  const { truncated, head, resumedAt } = first;
  const events: T[] = [];
  let last: StoredRow | undefined;
  let entries = first.entries;
  let examined = 0;
  let hasMore = false;
  for (;;) {
    for (const entry of entries) {
      const row = toRow(entry);
      examined++;
      if (matches(row)) {
        // One match past a full page: there is more, and the next read starts at it.
        if (events.length === limit) {
          hasMore = true;
          break;
        }
        events.push(pick(row));
      }
      last = row;
    }
    if (hasMore || examined >= MAX_SCAN_ROWS) {
      hasMore = true;
      break;
    }
    if (entries.length < PAGE_ROWS) break;
    const from = last!.pos;
    entries = await source.page(from, Math.min(PAGE_ROWS, MAX_SCAN_ROWS - examined));
    if (entries.length > 0 && entryPos(entries[0]!) !== from + 1) {
      hasMore = true;
      break;
    }
  }
  const cursor = last?.id ?? (truncated ? head || null : after);
  return truncated ? { events, cursor, truncated, hasMore, resumedAt } : { events, cursor, truncated, hasMore };
}
