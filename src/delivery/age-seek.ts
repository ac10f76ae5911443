import type { EventFilter } from '../events/filter.js';
import { youngEnough } from '../events/ulid.js';
import type { EventLog } from '../log/event-log.js';

/** Where a subscription with `maxAgeMs` starts, and whether getting there skipped anything it would have had. */
export interface AgeSeek {
  /** A cursor the log continues from seamlessly: the last event passed over, or where the seek began. */
  after: string;
  /** A matching event older than the floor was passed over, or the cursor itself was gone (a retention gap). */
  skipped: boolean;
}

const SEEK_PAGE = 1000;

/**
 * Moves a cursor past the matching events minted before `now − maxAgeMs`, by the time their
 * ids carry (a ULID's first 48 bits are its commit millisecond, and ids never go back in
 * time, so the old events are a prefix of what follows the cursor). The result is always a
 * cursor the log reads on from without a gap; a retention gap met on the way is passed over
 * too and counted as skipped. Without `maxAgeMs` the cursor is returned as it is.
 */
export async function seekByAge(log: EventLog, after: string, filter: EventFilter, maxAgeMs: number | undefined, now: number): Promise<AgeSeek> {
  if (maxAgeMs === undefined) return { after, skipped: false };
  let position = after;
  let skipped = false;
  for (;;) {
    const page = await log.readSerialized({ after: position, filter, limit: SEEK_PAGE });
    if (page.truncated) {
      position = page.resumedAt!;
      skipped = true;
    }
    const firstYoung = page.events.findIndex((event) => youngEnough(event, maxAgeMs, now));
    if (firstYoung === 0) return { after: position, skipped };
    if (firstYoung > 0) return { after: page.events[firstYoung - 1]!.id, skipped: true };
    skipped ||= page.events.length > 0;
    if (page.cursor !== null) position = page.cursor;
    if (!page.hasMore) return { after: position, skipped };
  }
}
