import { parseDuration } from '../duration.js';
import { ISO_TIME_PATTERN } from '../events/event.js';
import { isUlid } from '../events/ulid.js';

/**
 * A place in the log as the operator commands take it (`--after`, `--before`, `--to`,
 * `tail --from`): an event id, an ISO 8601 time with its offset, or a time ago (`90s`, `15m`,
 * `1h`, `7d`). What the relay gets is an id or an ISO time, the two it accepts.
 */
export type PositionFlag = { id: string } | { time: string };

/** The forms every position flag accepts, for messages and usage texts. */
export const POSITION_FORMS = 'an event id, an ISO 8601 time with its offset (2026-12-07T10:00:00Z) or a time ago (30m, 1h, 7d)';

/** The same for a usage text, as its last paragraph. */
export const POSITION_HELP = `P is ${POSITION_FORMS.replace(' or a time ago', '\nor a time ago')}.`;

/** Whether `text` is an event id (a ULID); a plain boolean, so a string it is not stays a string. */
export function isEventId(text: string): boolean {
  return isUlid(text);
}

/** `text` as a position; `now` is the clock a time ago counts back from. Throws one sentence naming `flag`. */
export function parsePositionFlag(flag: string, text: string, now: number): PositionFlag {
  if (isEventId(text)) return { id: text };
  if (ISO_TIME_PATTERN.test(text) && Number.isFinite(Date.parse(text))) return { time: text };
  // A bare number is milliseconds to parseDuration; a time ago names its unit.
  const ago = /[a-z]$/.test(text) ? parseDuration(text) : undefined;
  if (ago !== undefined) return { time: new Date(now - ago).toISOString() };
  throw new Error(`${flag} must be ${POSITION_FORMS}, not "${text.slice(0, 40)}"`);
}

/** The position as the relay's API takes it. */
export function positionText(position: PositionFlag): string {
  return 'id' in position ? position.id : position.time;
}
