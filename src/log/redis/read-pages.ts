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

/** read.lua's reply: `[start pos, truncated 0|1, head or '', page]`. */
export type ReadReply = [number, number, string, string];

export interface PageSource {
  /** The cursor resolved, with the first page after it. */
  first(count: number): Promise<ReadReply>;
  /** The page after a position. */
  next(afterPos: number, count: number): Promise<string>;
}

const PAGE_ROWS = 1000;

/**
 * Splits a page as read.lua joins it: per entry `<pos>-0`, the routing header and the
 * event's JSON, each followed by a newline except the last. Neither JSON text holds a raw
 * newline, so the split is exact.
 */
function toRows(page: string): StoredRow[] {
  const rows: StoredRow[] = [];
  for (let at = 0; at < page.length; ) {
    const headerAt = page.indexOf('\n', at) + 1;
    const bodyAt = page.indexOf('\n', headerAt) + 1;
    const end = page.indexOf('\n', bodyAt);
    const next = end === -1 ? page.length : end;
    const [id, type, source, subject] = JSON.parse(page.slice(headerAt, bodyAt - 1)) as [string, string, string, string?];
    rows.push({ pos: Number.parseInt(page.slice(at, headerAt - 1), 10), id, type, source, subject, body: page.slice(bodyAt, next) });
    at = next + 1;
  }
  return rows;
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
  const [, truncatedFlag, head, firstPage] = await source.first(PAGE_ROWS);
  const truncated = truncatedFlag === 1;
  const events: T[] = [];
  let last: StoredRow | undefined;
  let rows = toRows(firstPage);
  let examined = 0;
  let hasMore = false;
  for (;;) {
    for (const row of rows) {
      last = row;
      examined++;
      if (matches(row)) events.push(pick(row));
      if (events.length === limit) break;
    }
    if (events.length === limit || examined >= MAX_SCAN_ROWS) {
      hasMore = true;
      break;
    }
    if (rows.length < PAGE_ROWS) break;
    const from = last!.pos;
    rows = toRows(await source.next(from, Math.min(PAGE_ROWS, MAX_SCAN_ROWS - examined)));
    if (rows.length > 0 && rows[0]!.pos !== from + 1) {
      hasMore = true;
      break;
    }
  }
  const cursor = last?.id ?? (truncated ? head || null : after);
  return { events, cursor, truncated, hasMore };
}
