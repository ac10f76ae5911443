import { z } from 'zod';
import type { Event, NewEvent } from '../events/event.js';
import { newEventSchema } from '../events/event.js';
import { LogError } from './log-error.js';

/** An input checked and completed, ready for a backend to assign an id and commit. */
export type PendingEvent = Omit<Event, 'id'>;

/** Validates inputs before anything is committed, so a bad batch commits nothing. */
export function validateNewEvents(inputs: readonly NewEvent[], nowMs: number): PendingEvent[] {
  const receivedAt = new Date(nowMs).toISOString();
  return inputs.map((input, index) => {
    const parsed = newEventSchema.safeParse(input);
    if (!parsed.success) {
      const where = inputs.length > 1 ? ` (batch item ${index})` : '';
      throw new LogError('invalid_event', `invalid event${where}: ${z.prettifyError(parsed.error)}`);
    }
    const e = parsed.data;
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

/** Parses an option object, turning zod's error into the log's `invalid_argument`. */
export function parseArgument<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new LogError('invalid_argument', `invalid ${what}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
