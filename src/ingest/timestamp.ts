import { reject, type Rejection } from './rejection.js';

/** Digits only: `Number()` would also accept `1e9`, `0x10`, `" 12 "` and `Infinity`. */
const UNIX_SECONDS = /^\d{1,12}$/;

/**
 * ISO 8601 with a zone, as Zendesk sends. `Date.parse` alone accepts far more ("1" is the
 * year 2001), which would let a garbled header pass as some arbitrary instant.
 */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

/** Milliseconds since the epoch, or undefined when the text is not unix seconds. */
export function parseUnixSeconds(text: string): number | undefined {
  return UNIX_SECONDS.test(text) ? Number(text) * 1000 : undefined;
}

/** Milliseconds since the epoch, or undefined when the text is not a zoned ISO instant. */
export function parseIsoInstant(text: string): number | undefined {
  if (!ISO_INSTANT.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * Refuses a signed timestamp outside ±`toleranceS` of now. Both directions: a timestamp from
 * the future is as replayable as a stale one (Stripe's own library only checks the past).
 */
export function checkTolerance(signedMs: number, nowMs: number, toleranceS: number): Rejection | undefined {
  if (Math.abs(nowMs - signedMs) <= toleranceS * 1000) return undefined;
  return reject('timestamp_out_of_tolerance', 'signed timestamp is outside the accepted window');
}
