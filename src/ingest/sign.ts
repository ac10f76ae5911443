import { randomUUID } from 'node:crypto';
import type { ProviderKind } from './provider.js';
import { hmacSha256, standardWebhooksKey, usableSecrets } from './signature.js';

export interface SignOptions {
  /**
   * The sender's secret. Several (current first) make Stripe and Standard Webhooks send one
   * signature per secret, as they do during a rotation; the others only ever send one,
   * made with the first.
   */
  secret: string | readonly string[];
  /** The sender's clock (ms since the epoch) for signed timestamps. */
  nowMs: number;
  /** The delivery's other headers (topic, delivery id, …), copied with lower-cased names. */
  headers?: Readonly<Record<string, string>>;
}

/**
 * The headers a provider would send with `rawBody`: what `send` uses to play a fixture at a
 * running relay. Standard Webhooks sign their message id, so one is generated when
 * `headers` has no `webhook-id`. Throws on an unusable secret — the caller's mistake.
 */
export function signDelivery(kind: ProviderKind, rawBody: Buffer, options: SignOptions): Record<string, string> {
  const secrets = usableSecrets(typeof options.secret === 'string' ? [options.secret] : options.secret);
  const [first] = secrets;
  if (first === undefined) throw new Error('signDelivery needs a non-blank secret');
  const out: Record<string, string> = { 'content-type': 'application/json' };
  for (const [name, value] of Object.entries(options.headers ?? {})) out[name.toLowerCase()] = value;
  const seconds = Math.floor(options.nowMs / 1000);
  switch (kind) {
    case 'stripe': {
      const signatures = secrets.map((secret) => `v1=${hmacSha256(secret, [`${seconds}.`, rawBody], 'hex')}`);
      out['stripe-signature'] = [`t=${seconds}`, ...signatures].join(',');
      break;
    }
    case 'shopify':
      out['x-shopify-hmac-sha256'] = hmacSha256(first, [rawBody], 'base64');
      break;
    case 'zendesk': {
      // Zendesk's format: whole seconds, `Z`, e.g. 2023-11-14T22:13:20Z.
      const timestamp = new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
      out['x-zendesk-webhook-signature-timestamp'] = timestamp;
      out['x-zendesk-webhook-signature'] = hmacSha256(first, [timestamp, rawBody], 'base64');
      break;
    }
    case 'github':
      out['x-hub-signature-256'] = `sha256=${hmacSha256(first, [rawBody], 'hex')}`;
      break;
    case 'standard':
    case 'mcp-events': {
      const id = out['webhook-id'] ?? `msg_${randomUUID().replaceAll('-', '')}`;
      const signatures = secrets.map((secret) => {
        const key = standardWebhooksKey(secret);
        if (key === undefined) throw new Error('Standard Webhooks secrets are whsec_<base64>');
        return `v1,${hmacSha256(key, [`${id}.${seconds}.`, rawBody], 'base64')}`;
      });
      out['webhook-id'] = id;
      out['webhook-timestamp'] = String(seconds);
      out['webhook-signature'] = signatures.join(' ');
      break;
    }
  }
  return out;
}
