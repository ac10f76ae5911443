import { z } from 'zod';
import { compileFilter, eventFilterSchema } from '../events/filter.js';
import { isUlid, LOG_START } from '../events/ulid.js';
import type { ReadOptions, ReadResult, SerializedEvent, SerializedReadResult } from './event-log.js';
import { readLimitSchema } from './log-options.js';
import type { ScanFn, ScanRow } from './scan.js';
import { scanMatching } from './scan.js';
import { parseArgument } from './validate.js';

/** The read primitives a backend provides; the cursor rules live once, here. */
export interface LogReader {
  positionOf(id: string): number | undefined;
  /** The last id ever trimmed, or null. */
  trimmedThrough(): string | null;
  head(): string | null;
  scan: ScanFn;
}

const readOptionsSchema = z
  .object({
    after: z.string().max(200).nullable(),
    filter: eventFilterSchema.optional(),
    limit: readLimitSchema,
  })
  .strict();

/** Validates a read's options (`invalid_argument` otherwise); every backend reads through it. */
export function parseReadOptions(options: ReadOptions) {
  return parseArgument(readOptionsSchema, options, 'read options');
}

/** The wire form of an event whose JSON is already encoded. */
export function serializedEvent(row: Pick<ScanRow, 'id' | 'type' | 'source' | 'subject'>, json: string): SerializedEvent {
  const event: SerializedEvent = { id: row.id, type: row.type, source: row.source, json };
  if (row.subject !== undefined) event.subject = row.subject;
  return event;
}

/**
 * Where a read after `after` starts. A retained id, or the last id ever trimmed (nothing
 * after it was lost), continue seamlessly; anything else starts at the oldest retained
 * event and says so.
 */
function resolveCursor(reader: LogReader, after: string | null): { pos: number; truncated: boolean } {
  if (after === null) return { pos: 0, truncated: false };
  if (after === LOG_START) return { pos: 0, truncated: reader.trimmedThrough() !== null };
  if (isUlid(after)) {
    const pos = reader.positionOf(after);
    if (pos !== undefined) return { pos, truncated: false };
    if (after === reader.trimmedThrough()) return { pos: 0, truncated: false };
  }
  return { pos: 0, truncated: true };
}

function readWith<T>(reader: LogReader, options: ReadOptions, pick: (row: ScanRow) => T) {
  const { after, filter, limit } = parseReadOptions(options);
  const start = resolveCursor(reader, after);
  const result = scanMatching((pos, count) => reader.scan(pos, count), start.pos, compileFilter(filter), limit, pick);
  const cursor = result.last?.id ?? (start.truncated ? reader.head() : after);
  const read = { events: result.events, cursor, truncated: start.truncated, hasMore: result.hasMore };
  return start.truncated ? { ...read, resumedAt: reader.trimmedThrough() ?? LOG_START } : read;
}

export function readEvents(reader: LogReader, options: ReadOptions): ReadResult {
  return readWith(reader, options, (row) => row.decode());
}

export function readSerializedEvents(reader: LogReader, options: ReadOptions): SerializedReadResult {
  return readWith(reader, options, (row) => serializedEvent(row, row.json()));
}
