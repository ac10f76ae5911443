import type { EventFilter } from '../events/filter.js';
import { isUlid } from '../events/ulid.js';
import { filterOfQuery, listOf } from '../http/query-filter.js';

/** What a `GET /feed` asks for, once its query and headers are checked. */
export interface FeedRequest {
  filter: EventFilter;
  /** Replay strictly after this id; `undefined`: live only, from the head. */
  lastEventId: string | undefined;
}

/** A request refused before the stream starts: `400 {"error": code, "message"}`. */
export interface FeedRejection {
  error: 'invalid_filter' | 'invalid_cursor' | 'unknown_parameter';
  message: string;
}

const KNOWN = new Set<string>(['types', 'sources', 'subjects', 'lastEventId']);

/**
 * Reads filters (comma lists of exact values or `*` globs, as for every other reader) and the
 * cursor. The `Last-Event-ID` header wins over the `lastEventId` query: a browser that
 * reconnects keeps the URL it started with and sends its newest id in the header.
 */
export function parseFeedRequest(query: Record<string, unknown>, lastEventIdHeader: string | string[] | undefined): FeedRequest | FeedRejection {
  const unknown = Object.keys(query).find((name) => !KNOWN.has(name));
  if (unknown !== undefined) {
    return { error: 'unknown_parameter', message: `unknown query parameter "${unknown.slice(0, 40)}"; use types, sources, subjects, lastEventId` };
  }
  const filter = filterOfQuery(query);
  if ('message' in filter) return { error: 'invalid_filter', message: filter.message };
  const header = Array.isArray(lastEventIdHeader) ? lastEventIdHeader[0] : lastEventIdHeader;
  // Repeated or comma-listed ids join into something that is not a ULID, and are refused.
  const cursor = header?.trim() || listOf(query.lastEventId)?.join(',');
  if (cursor !== undefined && !isUlid(cursor)) {
    return { error: 'invalid_cursor', message: 'Last-Event-ID must be an event id from this feed (a ULID)' };
  }
  return { filter: filter.filter, lastEventId: cursor };
}
