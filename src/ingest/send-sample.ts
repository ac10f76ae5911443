import type { ProviderKind } from './provider.js';
import type { SampleName } from './samples.js';
import { loadSample } from './samples.js';
import { signDelivery } from './sign.js';

export interface SendSampleOptions {
  /** The relay's base URL, e.g. `http://127.0.0.1:8787`. */
  url: string;
  /** The route: `POST <url>/webhooks/<source>`. */
  source: string;
  sample: SampleName;
  /** The secret the relay holds for `source` (its current one). */
  secret: string;
  nowMs: number;
}

export interface SendSampleResult {
  provider: ProviderKind;
  status: number;
  body: unknown;
}

/**
 * Plays a sample delivery at a running relay, signed exactly as its provider would sign it
 * now: the relay's answer to `stripe trigger`. Samples carry fixed upstream ids, so sending
 * one twice shows deduplication.
 */
export async function sendSample(options: SendSampleOptions): Promise<SendSampleResult> {
  const sample = loadSample(options.sample);
  const headers = signDelivery(sample.provider, sample.rawBody, { secret: options.secret, nowMs: options.nowMs, headers: sample.headers });
  const target = new URL(`webhooks/${encodeURIComponent(options.source)}`, options.url.endsWith('/') ? options.url : `${options.url}/`);
  const res = await fetch(target, { method: 'POST', headers, body: sample.rawBody }).catch((error: unknown) => {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(`cannot reach ${target.origin}: ${cause?.code ?? cause?.message ?? String(error)}`);
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // A proxy's HTML error page: shown as text.
  }
  return { provider: sample.provider, status: res.status, body };
}
