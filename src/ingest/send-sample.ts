import type { ProviderKind } from './provider.js';
import type { SampleName } from './samples.js';
import { freshSample, loadSample } from './samples.js';
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
  /**
   * A new event rather than the sample as shipped: new upstream ids and times (see
   * {@link freshSample}), so every send is accepted. Default false: the shipped ids, so a
   * second send is a duplicate.
   */
  fresh?: boolean;
  /**
   * Your own body instead of the sample's, sent byte for byte: its ids and times are yours and
   * never rewritten. The sample still gives the headers (topic, event name, delivery ids,
   * which `fresh` renews as for the sample).
   */
  payload?: Buffer;
}

export interface SendSampleResult {
  provider: ProviderKind;
  status: number;
  body: unknown;
}

/**
 * Plays a sample delivery at a running relay, signed exactly as its provider would sign it
 * now: the relay's answer to `stripe trigger`.
 */
export async function sendSample(options: SendSampleOptions): Promise<SendSampleResult> {
  const shipped = loadSample(options.sample);
  const sample = options.fresh ? freshSample(shipped, options.nowMs) : shipped;
  const rawBody = options.payload ?? sample.rawBody;
  const headers = signDelivery(sample.provider, rawBody, { secret: options.secret, nowMs: options.nowMs, headers: sample.headers });
  const target = new URL(`webhooks/${encodeURIComponent(options.source)}`, options.url.endsWith('/') ? options.url : `${options.url}/`);
  const res = await fetch(target, { method: 'POST', headers, body: rawBody }).catch((error: unknown) => {
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
