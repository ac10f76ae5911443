import type { Event } from '../events/event.js';
import type { EventMatcher } from '../events/filter.js';

/** One stored event as a backend's scan yields it: matchable without decoding the body. */
export interface ScanRow {
  /** The backend's own position (SQLite rowid, memory index); only compared, never shown. */
  pos: number;
  id: string;
  type: string;
  source: string;
  subject: string | undefined;
  decode(): Event;
  /** The event as JSON text, without decoding it where the store keeps it as text. */
  json(): string;
}

/** Rows strictly after `afterPos`, in log order, at most `count`. */
export type ScanFn = (afterPos: number, count: number) => ScanRow[];

export interface ScanResult<T> {
  events: T[];
  /** The last row examined, if any. */
  last: ScanRow | undefined;
  /** True when a matching event lies beyond `events` (or the scan stopped at its row bound before the head). */
  hasMore: boolean;
}

/**
 * Bounds the rows one read examines, so a filter that matches rarely cannot turn one
 * request into a scan of the whole log; the caller continues from the returned cursor.
 */
export const MAX_SCAN_ROWS = 50_000;
const PAGE_ROWS = 1000;

/**
 * Collects up to `limit` matching events after `afterPos`, turning only the matches into `T`.
 * A full page looks ahead for one more match, so `hasMore` is false when the page drained
 * the log; rows that do not match move `last` on, so the next read does not examine them again.
 */
export function scanMatching<T>(scan: ScanFn, afterPos: number, matches: EventMatcher, limit: number, pick: (row: ScanRow) => T): ScanResult<T> {
  const events: T[] = [];
  let last: ScanRow | undefined;
  let examined = 0;
  let pos = afterPos;
  for (;;) {
    const want = Math.min(PAGE_ROWS, MAX_SCAN_ROWS - examined);
    const rows = scan(pos, want);
    for (const row of rows) {
      examined++;
      if (matches(row)) {
        // One match past a full page: there is more, and the next read starts at it.
        if (events.length === limit) return { events, last, hasMore: true };
        events.push(pick(row));
      }
      last = row;
    }
    if (rows.length < want) return { events, last, hasMore: false };
    if (examined >= MAX_SCAN_ROWS) return { events, last, hasMore: true };
    pos = last!.pos;
  }
}
