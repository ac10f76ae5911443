import { z } from 'zod';
import type { Event, NewEvent } from '../events/event.js';
import { ISO_TIME_PATTERN, MAX_TEXT_LENGTH, newEventSchema, SOURCE_PATTERN } from '../events/event.js';
import { LogError } from './log-error.js';

/** An input checked and completed, ready for a backend to assign an id and commit. */
export type PendingEvent = Omit<Event, 'id'>;

/** What `newEventSchema` yields: the input's fields, `data` copied. */
type CheckedEvent = z.output<typeof newEventSchema>;

/** Validates inputs before anything is committed, so a bad batch commits nothing. */
export function validateNewEvents(inputs: readonly NewEvent[], nowMs: number): PendingEvent[] {
  const receivedAt = isoTime(nowMs);
  return inputs.map((input, index) => {
    const e = checkPlainEvent(input) ?? parseWithZod(input, index, inputs.length);
    const received = e.receivedAt ?? receivedAt;
    const pending: PendingEvent = {
      source: e.source,
      type: e.type,
      sourceType: e.sourceType,
      sourceEventId: e.sourceEventId,
      occurredAt: e.occurredAt ?? received,
      receivedAt: received,
      data: e.data,
      raw: e.raw,
    };
    if (e.subject !== undefined) pending.subject = e.subject;
    if (e.customerId !== undefined) pending.customerId = e.customerId;
    return pending;
  });
}

let lastTime = { ms: Number.NaN, iso: '' };

/** `toISOString`, once per millisecond: the appends of one busy millisecond share it. */
function isoTime(ms: number): string {
  if (ms !== lastTime.ms) lastTime = { ms, iso: new Date(ms).toISOString() };
  return lastTime.iso;
}

function parseWithZod(input: unknown, index: number, count: number): CheckedEvent {
  const parsed = newEventSchema.safeParse(input);
  if (!parsed.success) {
    const where = count > 1 ? ` (batch item ${index})` : '';
    throw new LogError('invalid_event', `invalid event${where}: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}

const EVENT_KEYS: ReadonlySet<string> = new Set(Object.keys(newEventSchema.shape));

/**
 * `newEventSchema`'s parse without zod, for the inputs it certainly accepts: plain objects
 * such as every webhook builds. Zod's parse cost as much as normalizing the payload. Returns
 * undefined for anything it is not sure of; zod then decides, and words the refusal.
 */
function checkPlainEvent(input: unknown): CheckedEvent | undefined {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return undefined;
  // Strict, as zod checks it: every enumerable key, inherited ones included, must be known.
  for (const key in input) if (!EVENT_KEYS.has(key)) return undefined;
  // `raw` may hold anything, undefined included, but zod wants the key.
  if (!('raw' in input)) return undefined;
  const { source, type, sourceType, sourceEventId, subject, customerId, occurredAt, receivedAt, data, raw } = input as Record<string, unknown>;
  if (typeof source !== 'string' || !SOURCE_PATTERN.test(source)) return undefined;
  if (!isText(type) || !isText(sourceType) || !isText(sourceEventId)) return undefined;
  if (!(subject === undefined || isText(subject)) || !(customerId === undefined || isText(customerId))) return undefined;
  if (!(occurredAt === undefined || isTime(occurredAt)) || !(receivedAt === undefined || isTime(receivedAt))) return undefined;
  const record = copyRecord(data);
  if (record === undefined) return undefined;
  return { source, type, sourceType, sourceEventId, subject, customerId, occurredAt, receivedAt, data: record, raw };
}

function isText(value: unknown): value is string {
  return typeof value === 'string' && value.length >= 1 && value.length <= MAX_TEXT_LENGTH;
}

function isTime(value: unknown): value is string {
  return typeof value === 'string' && ISO_TIME_PATTERN.test(value);
}

/**
 * `z.record(z.string(), z.unknown())`'s output for a plain object: a copy of its own
 * enumerable string keys. Objects with a prototype of their own, an own `constructor` or
 * `__proto__` (zod drops that key; a spread would keep it) or symbol keys are left to zod.
 */
function copyRecord(value: unknown): Record<string, unknown> | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return undefined;
  if (Object.hasOwn(value, 'constructor') || Object.hasOwn(value, '__proto__') || Object.getOwnPropertySymbols(value).length > 0) return undefined;
  return { ...value };
}

/** Parses an option object, turning zod's error into the log's `invalid_argument`. */
export function parseArgument<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new LogError('invalid_argument', `invalid ${what}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
