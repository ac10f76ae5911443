import { createHash } from 'node:crypto';
import { standardWebhooksKey } from '../ingest/signature.js';

/**
 * JSON with object keys sorted at every depth and no whitespace: the form two `arguments`
 * are compared in ("canonical-JSON equality"), so `{"b":1,"a":2}` and `{"a":2, "b":1}` name
 * the same subscription.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * A subscription's id: `sub_` and 32 hex digits of the SHA-256 of its key (principal, url,
 * name, canonical arguments). The same key always gives the same id, across refreshes,
 * restarts and instances; the id routes deliveries and is never accepted as input.
 */
export function subscriptionId(principal: string, url: string, name: string, canonicalArguments: string): string {
  const digest = createHash('sha256').update(JSON.stringify([principal, url, name, canonicalArguments])).digest('hex');
  return `sub_${digest.slice(0, 32)}`;
}

/** Bytes of key a subscriber's `whsec_` secret must decode to. */
export const SECRET_BYTES = { min: 24, max: 64 } as const;

/** Why `secret` is not a usable signing secret, or `undefined` when it is one. */
export function secretProblem(secret: string): string | undefined {
  if (!secret.startsWith('whsec_')) return 'delivery.secret must be whsec_<base64>';
  const key = standardWebhooksKey(secret);
  if (key === undefined) return 'delivery.secret is not valid base64 after whsec_';
  if (key.length < SECRET_BYTES.min || key.length > SECRET_BYTES.max) {
    return `delivery.secret must decode to ${SECRET_BYTES.min}–${SECRET_BYTES.max} bytes (it decodes to ${key.length})`;
  }
  return undefined;
}
