import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** `whsec_` and canonical base64 (padding included): `Buffer.from` alone would drop bad characters silently. */
const SECRET_FORM = /^whsec_((?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?)$/;
/** Bytes of key a secret decodes to, as `events/subscribe` requires. */
const KEY_BYTES = { min: 24, max: 64 } as const;

/** The HMAC key of a Standard Webhooks secret, or `undefined` when `secret` is not `whsec_` and the base64 of 24–64 bytes. */
export function webhookSecretKey(secret: string): Buffer | undefined {
  const encoded = SECRET_FORM.exec(secret)?.[1];
  if (encoded === undefined) return undefined;
  const key = Buffer.from(encoded, 'base64');
  return key.length >= KEY_BYTES.min && key.length <= KEY_BYTES.max ? key : undefined;
}

/** A fresh signing secret: 32 bytes from the operating system's CSPRNG. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** Why a delivery's headers were refused: absent, a timestamp that is no integer, or one too far from this clock. */
export type HeaderRefusal = 'missing_signature_headers' | 'invalid_timestamp' | 'timestamp_out_of_tolerance';

/** What a signature is computed over, and the `v1` signatures a delivery carries (decoded; others ignored). */
export interface SignedHeaders {
  webhookId: string;
  timestamp: string;
  candidates: Buffer[];
}

const single = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value.join(' ') : value);

/**
 * The Standard Webhooks headers of a delivery, its timestamp within `toleranceSeconds` of
 * `nowMs` either way (a replay of an old delivery, or a clock far off, is refused).
 */
export function signedHeaders(headers: IncomingHttpHeaders, toleranceSeconds: number, nowMs: number): SignedHeaders | HeaderRefusal {
  const webhookId = single(headers['webhook-id']);
  const timestamp = single(headers['webhook-timestamp']);
  const signature = single(headers['webhook-signature']);
  if (!webhookId || !timestamp || !signature) return 'missing_signature_headers';
  if (!/^\d{1,12}$/.test(timestamp)) return 'invalid_timestamp';
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > toleranceSeconds) return 'timestamp_out_of_tolerance';
  const candidates = signature
    .split(/\s+/)
    .filter((part) => part.startsWith('v1,'))
    .map((part) => Buffer.from(part.slice(3), 'base64'));
  return { webhookId, timestamp, candidates };
}

/**
 * Whether any `v1` signature is the HMAC-SHA256 of `id.timestamp.body` under any of `keys`.
 * Every key is compared with every candidate in constant time, without an early exit: the
 * time taken does not tell which key or candidate matched, nor how much of one did.
 */
export function signedBy(keys: readonly Buffer[], signed: SignedHeaders, body: Buffer): boolean {
  let matched = false;
  for (const key of keys) {
    const expected = createHmac('sha256', key).update(`${signed.webhookId}.${signed.timestamp}.`).update(body).digest();
    for (const candidate of signed.candidates) {
      matched = (candidate.length === expected.length && timingSafeEqual(candidate, expected)) || matched;
    }
  }
  return matched;
}
