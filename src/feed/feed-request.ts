import { type EventFilter, eventFilterSchema } from '../events/filter.js';
import { isUlid } from '../events/ulid.js';

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

const FILTER_FIELDS = ['types', 'sources', 'subjects'] as const;
const KNOWN = new Set<string>([...FILTER_FIELDS, 'lastEventId']);

/** `a,b` and repeated parameters alike; blanks dropped, so `types=` means no filter. */
function listOf(value: unknown): string[] | undefined {
  const parts = (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');
  const items = parts.flatMap((part) => part.split(',')).map((item) => item.trim()).filter(Boolean);
  return items.length > 0 ? items : undefined;
}

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
  const candidate: Record<string, string[]> = {};
  for (const field of FILTER_FIELDS) {
    const list = listOf(query[field]);
    if (list) candidate[field] = list;
  }
  const filter = eventFilterSchema.safeParse(candidate);
  if (!filter.success) {
    const issue = filter.error.issues[0]!;
    return { error: 'invalid_filter', message: `${String(issue.path[0])}: at most 100 patterns of 1 to 200 characters each` };
  }
  const header = Array.isArray(lastEventIdHeader) ? lastEventIdHeader[0] : lastEventIdHeader;
  // Repeated or comma-listed ids join into something that is not a ULID, and are refused.
  const cursor = header?.trim() || listOf(query.lastEventId)?.join(',');
  if (cursor !== undefined && !isUlid(cursor)) {
    return { error: 'invalid_cursor', message: 'Last-Event-ID must be an event id from this feed (a ULID)' };
  }
  return { filter: filter.data, lastEventId: cursor };
}
