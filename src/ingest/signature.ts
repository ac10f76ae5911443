import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Constant-time string equality that is total: different lengths, non-ASCII or odd-length
 * input simply compare unequal. `timingSafeEqual` throws on unequal byte lengths, and JS
 * string length is not byte length, so the check is on the UTF-8 bytes themselves.
 */
export function safeEqual(received: string, expected: string): boolean {
  const a = Buffer.from(received, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** HMAC-SHA256 over the concatenation of `parts`, without copying them into one buffer. */
export function hmacSha256(key: string | Buffer, parts: readonly (string | Buffer)[], encoding: 'hex' | 'base64'): string {
  const mac = createHmac('sha256', key);
  for (const part of parts) mac.update(part);
  return mac.digest(encoding);
}

/** Configured secrets as keys: a trailing newline from a secrets file must not break verification. */
export function usableSecrets(secrets: readonly string[]): string[] {
  return secrets.map((s) => s.trim()).filter((s) => s.length > 0);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The HMAC key of a Standard Webhooks secret: the base64 after `whsec_`, decoded. (Stripe
 * also says `whsec_` but keys with the literal string.) Returns undefined for a secret that
 * is not base64, because `Buffer.from(…, 'base64')` would silently drop the bad characters.
 */
export function standardWebhooksKey(secret: string): Buffer | undefined {
  const encoded = secret.trim().replace(/^whsec_/, '');
  if (encoded.length === 0 || !BASE64.test(encoded)) return undefined;
  return Buffer.from(encoded, 'base64');
}

/** True when any expected signature (one per secret) equals any received candidate. */
export function anyMatch(expected: readonly string[], received: readonly string[]): boolean {
  let matched = false;
  // No early exit: the work done must not reveal which secret or candidate matched.
  for (const e of expected) for (const r of received) matched = safeEqual(r, e) || matched;
  return matched;
}
