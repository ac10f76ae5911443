import { randomBytes } from 'node:crypto';
import { safeEqual } from '../ingest/signature.js';
import { type CallbackTarget, postCallback } from './callback-post.js';
import { verificationEnvelope } from './envelopes.js';
import { sendOutbound } from './outbound-http.js';

/** The receiver document an origin may serve instead of answering challenges. */
export const RECEIVER_DOCUMENT_PATH = '/.well-known/mcp-webhook-receiver.json';

export type VerifyResult = { ok: true; by: 'challenge' | 'receiver_document' } | { ok: false; reason: string };

/**
 * Proves a callback URL wants this subscription's deliveries before the first one is sent:
 * a signed `verification` envelope whose challenge the endpoint echoes (`{"challenge": …}`
 * in a 2xx body, compared in constant time); failing that, when the origin answered at all,
 * its receiver document (`{"receivers": ["/hooks/"]}`) listing a prefix of the URL's path.
 * A failure's `reason` is the challenge's: `connection_refused`, `timeout`, `tls_error`,
 * `http_4xx`, `http_5xx`, `challenge_failed` (a 2xx without the echo), or the egress
 * categories (`dns_error`, `address_refused`, …).
 */
export async function verifyEndpoint(target: CallbackTarget, url: URL, subscriptionId: string, secrets: readonly string[], nowMs: number): Promise<VerifyResult> {
  const challenge = randomBytes(24).toString('base64url');
  const attempt = await postCallback(target, url, subscriptionId, secrets, verificationEnvelope(challenge), nowMs);
  if (attempt.outcome === 'delivered' && echoes(attempt.body, challenge)) return { ok: true, by: 'challenge' };
  const reason = attempt.outcome === 'delivered' ? 'challenge_failed' : attempt.outcome === 'failed' ? attempt.reason : 'http_4xx';
  const answered = attempt.outcome !== 'failed' || attempt.status !== undefined;
  if (answered && (await listedByReceiverDocument(target, url))) return { ok: true, by: 'receiver_document' };
  return { ok: false, reason };
}

function echoes(body: Buffer, challenge: string): boolean {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { challenge?: unknown };
    return typeof parsed.challenge === 'string' && safeEqual(parsed.challenge, challenge);
  } catch {
    return false;
  }
}

async function listedByReceiverDocument(target: CallbackTarget, url: URL): Promise<boolean> {
  const result = await sendOutbound({ url: new URL(RECEIVER_DOCUMENT_PATH, url.origin), method: 'GET', headers: { accept: 'application/json' }, ...target });
  if (!result.ok || result.status !== 200 || result.truncated) return false;
  try {
    const document = JSON.parse(result.body.toString('utf8')) as { receivers?: unknown };
    if (!Array.isArray(document.receivers)) return false;
    return document.receivers.some((prefix) => typeof prefix === 'string' && prefix.startsWith('/') && url.pathname.startsWith(prefix));
  } catch {
    return false;
  }
}

/**
 * Verifications per callback host per minute: subscribing cannot be turned into a way to
 * make the relay hammer someone else's server with challenges.
 */
export class VerificationLimiter {
  readonly #recent = new Map<string, number[]>();

  constructor(
    readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one verification of `host`; `false` (and nothing counted) when the host had its share this minute. */
  take(host: string): boolean {
    const now = this.now();
    const times = (this.#recent.get(host) ?? []).filter((at) => now - at < 60_000);
    if (times.length >= this.perMinute) {
      this.#recent.set(host, times);
      return false;
    }
    times.push(now);
    this.#recent.set(host, times);
    if (this.#recent.size > 10_000) this.#forgetIdle(now);
    return true;
  }

  #forgetIdle(now: number): void {
    for (const [host, times] of this.#recent) if (times.every((at) => now - at >= 60_000)) this.#recent.delete(host);
  }
}
