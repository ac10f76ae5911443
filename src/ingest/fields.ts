import { parseIsoInstant } from './timestamp.js';

/*
 * Readers for untrusted payloads and headers. Each returns the value only when it has the
 * expected JSON type, `null` otherwise, so normalizers never throw on a surprising shape
 * and absent fields serialize uniformly as `null` in event data.
 */

/** A plain JSON object (not an array), else null. */
export function record(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

/**
 * Follows own properties only: a payload key such as `constructor` or `__proto__` must read
 * as absent, not as something inherited from `Object.prototype`.
 */
export function field(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) {
    const obj = record(current);
    if (obj === null || !Object.hasOwn(obj, key)) return null;
    current = obj[key];
  }
  return current;
}

/** A string, or a finite number as its decimal text (Shopify and Zendesk ids are numbers). */
export function str(value: unknown): string | null {
  if (typeof value === 'string') return value;
  return typeof value === 'number' && Number.isFinite(value) ? String(value) : null;
}

export function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

export function bool(value: unknown): boolean | null {
  return typeof value === 'boolean' ? value : null;
}

/** Strings only, in payload order; anything else in the array is skipped. */
export function strings(value: unknown): string[] | null {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : null;
}

/** A zoned ISO 8601 instant, re-rendered in UTC so every stored time has one format. */
export function isoFromText(value: unknown): string | null {
  const ms = typeof value === 'string' ? parseIsoInstant(value) : undefined;
  return ms === undefined ? null : new Date(ms).toISOString();
}

/** Unix seconds (Stripe's `created`, `due_by`) as an ISO instant. */
export function isoFromSeconds(value: unknown): string | null {
  const seconds = num(value);
  if (seconds === null) return null;
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** The first of `names` that is present and non-blank (providers renamed some headers). */
export function header(headers: Readonly<Record<string, string | undefined>>, ...names: string[]): string | null {
  for (const name of names) {
    const value = headers[name];
    if (value !== undefined && value.trim() !== '') return value;
  }
  return null;
}
