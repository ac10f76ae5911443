import { signDelivery } from '../ingest/sign.js';
import type { EgressPolicy } from './address-policy.js';
import type { Envelope } from './envelopes.js';
import { sendOutbound } from './outbound-http.js';

/** Where callbacks may go, and how long one may take. */
export interface CallbackTarget {
  policy: EgressPolicy;
  /** The relay's own listen addresses: never called back unless `self` is allowed. */
  self: { address: string; port: number }[];
  connectTimeoutMs?: number;
  timeoutMs?: number;
  /** Name resolution (tests inject one); default: the system resolver. */
  resolve?: (hostname: string) => Promise<{ address: string; family: 4 | 6 }[]>;
}

/**
 * What one attempt came to. `failed.reason` is a fixed category — `connection_refused`,
 * `timeout`, `tls_error`, `dns_error`, `address_refused`, `http_3xx`, `http_4xx`,
 * `http_5xx`, `throttled` (429) — never the endpoint's own words.
 */
export type AttemptResult =
  | { outcome: 'delivered'; status: number; body: Buffer }
  /** 410: the receiver wants no more deliveries for this subscription. */
  | { outcome: 'gone'; status: 410 }
  /** 413: the receiver will never take this body; retrying cannot help. */
  | { outcome: 'too_large'; status: 413 }
  | { outcome: 'failed'; reason: string; status?: number; retryAfterMs?: number };

/** A `Retry-After` longer than this is taken as this. */
const MAX_RETRY_AFTER_MS = 3_600_000;

/**
 * Signs `envelope` with Standard Webhooks (`webhook-id`, `webhook-timestamp` of this
 * attempt, `webhook-signature` with one `v1,` signature per secret), adds
 * `X-MCP-Subscription-Id`, and POSTs it through the egress policy.
 */
export async function postCallback(
  target: CallbackTarget,
  url: URL,
  subscriptionId: string,
  secrets: readonly string[],
  envelope: Envelope,
  nowMs: number,
  signal?: AbortSignal,
): Promise<AttemptResult> {
  const headers = signDelivery('standard', envelope.body, {
    secret: secrets,
    nowMs,
    headers: { 'webhook-id': envelope.webhookId, 'x-mcp-subscription-id': subscriptionId, 'user-agent': 'mcp-event-relay' },
  });
  const result = await sendOutbound({ url, method: 'POST', headers, body: envelope.body, ...target, ...(signal ? { signal } : {}) });
  if (!result.ok) return { outcome: 'failed', reason: result.reason };
  const { status } = result;
  if (status >= 200 && status < 300) return { outcome: 'delivered', status, body: result.body };
  if (status === 410) return { outcome: 'gone', status };
  if (status === 413) return { outcome: 'too_large', status };
  if (status === 429) {
    const retryAfterMs = retryAfter(result.headers['retry-after'], nowMs);
    return { outcome: 'failed', reason: 'throttled', status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  }
  return { outcome: 'failed', reason: `http_${Math.floor(status / 100)}xx`, status };
}

/** `Retry-After` as seconds or an HTTP date, bounded; `undefined` when absent or unreadable. */
function retryAfter(header: string | string[] | undefined, nowMs: number): number | undefined {
  const text = Array.isArray(header) ? header[0] : header;
  if (text === undefined || text.trim() === '') return undefined;
  const ms = /^\d+$/.test(text.trim()) ? Number(text.trim()) * 1000 : Date.parse(text) - nowMs;
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
}
