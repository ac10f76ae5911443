import { randomBytes } from 'node:crypto';

/**
 * ULIDs are the log's positions: 48 bits of milliseconds then 80 bits that keep ids
 * minted in the same millisecond apart, in Crockford base32 (26 characters).
 *
 * Ordering is only guaranteed when every id is minted from the one before it
 * ({@link nextUlid}) inside the log's commit; two independent generators in the same
 * millisecond do not order (ULID spec, "Monotonicity").
 */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const TIME_LENGTH = 10;
const RANDOM_LENGTH = 16;
const MAX_TIME = 2 ** 48 - 1;
const PATTERN = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

/**
 * The position before every event: a cursor for "from the beginning" that, unlike `null`,
 * can travel where a ULID is expected (SSE ids, Events-extension cursors of an empty log).
 */
export const LOG_START = '0'.repeat(26);

export function isUlid(value: unknown): value is string {
  return typeof value === 'string' && PATTERN.test(value);
}

/** The millisecond timestamp an id was minted at. */
export function ulidTime(id: string): number {
  let time = 0;
  for (let i = 0; i < TIME_LENGTH; i++) time = time * 32 + ALPHABET.indexOf(id.charAt(i));
  return time;
}

/** Whether an event is younger than `maxAgeMs`, by the time its id was minted (commit time). */
export function youngEnough(event: { id: string }, maxAgeMs: number | undefined, now: number): boolean {
  return maxAgeMs === undefined || ulidTime(event.id) >= now - maxAgeMs;
}

function encodeTime(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0 || ms > MAX_TIME) throw new RangeError(`time ${ms} cannot be encoded in a ULID`);
  let out = '';
  for (let i = 0; i < TIME_LENGTH; i++) {
    out = ALPHABET.charAt(ms % 32) + out;
    ms = Math.floor(ms / 32);
  }
  return out;
}

function encodeRandom(): string {
  const bytes = randomBytes(RANDOM_LENGTH);
  let out = '';
  for (const byte of bytes) out += ALPHABET.charAt(byte & 31);
  return out;
}

/** The next id in base32 order: `prev` + 1, carrying into the time part if ever needed. */
function increment(prev: string): string {
  const chars = prev.split('');
  for (let i = chars.length - 1; i >= 0; i--) {
    const digit = ALPHABET.indexOf(chars[i]!);
    if (digit < 31) {
      chars[i] = ALPHABET.charAt(digit + 1);
      return chars.join('');
    }
    chars[i] = '0';
  }
  throw new RangeError('ULID space exhausted');
}

/**
 * Mints the id that follows `prev`: a fresh id for `nowMs` when the clock is ahead of
 * `prev`, otherwise `prev` + 1. The result is strictly greater than `prev` even when the
 * clock stands still or went backwards (after a restart or an NTP step).
 */
export function nextUlid(prev: string | null, nowMs: number): string {
  if (prev === null || nowMs > ulidTime(prev)) return encodeTime(nowMs) + encodeRandom();
  return increment(prev);
}

/** The smallest id of a millisecond: ids minted at or after `ms` sort at or after it. */
export function ulidFloor(ms: number): string {
  return encodeTime(Math.max(0, Math.min(MAX_TIME, Math.floor(ms)))) + '0'.repeat(RANDOM_LENGTH);
}
