import { seekByAge } from '../delivery/age-seek.js';
import { ISO_TIME_PATTERN } from '../events/event.js';
import { isUlid, LOG_START, ulidTime } from '../events/ulid.js';
import type { EventLog } from '../log/event-log.js';

/** A place in the log as an operator names it: an event id, or a time (ms since the epoch). */
export type Position = { id: string } | { time: number };

/** `01JF…` (an event id) or an ISO 8601 time with its offset; `undefined` for anything else. */
export function parsePosition(text: string): Position | undefined {
  if (isUlid(text)) return { id: text };
  if (ISO_TIME_PATTERN.test(text)) {
    const time = Date.parse(text);
    if (Number.isFinite(time)) return { time };
  }
  return undefined;
}

/**
 * A cursor the log reads on from seamlessly: an id as it is; for a time, the last event
 * committed before it (found by the time in the ids), or the start.
 */
export async function cursorAt(log: EventLog, position: Position, now: number): Promise<string> {
  if ('id' in position) return position.id;
  return (await seekByAge(log, LOG_START, {}, now - position.time, now)).after;
}

/** Whether `id` comes before `position` (an id: strictly before it; a time: committed before it). */
export function isBefore(id: string, position: Position): boolean {
  return 'id' in position ? id < position.id : ulidTime(id) < position.time;
}
