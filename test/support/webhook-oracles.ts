import { createHmac } from 'node:crypto';
import { sign as githubSign } from '@octokit/webhooks-methods';
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';
import type { ProviderKind, WebhookRequest } from '../../src/ingest/provider.js';
import { loadSample, type SampleName } from '../../src/ingest/samples.js';

/** 2023-11-14T22:13:20Z, the instant the reference vectors were signed at. */
export const T = 1_700_000_000_000;
/** The receiver's clock in the reference vectors: ten seconds after signing. */
export const NOW = T + 10_000;

/**
 * Signs a delivery the way the provider does, independently of `src/ingest/sign.ts`: with the
 * provider's official library where one exists, else with node:crypto following the docs.
 */
export async function oracleSign(
  kind: ProviderKind,
  body: string,
  secret: string,
  atMs: number,
  headers: Record<string, string> = {},
): Promise<Record<string, string>> {
  const seconds = Math.floor(atMs / 1000);
  switch (kind) {
    case 'stripe':
      return { ...headers, 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp: seconds }) };
    case 'shopify':
      return { ...headers, 'x-shopify-hmac-sha256': createHmac('sha256', secret).update(body, 'utf8').digest('base64') };
    case 'zendesk': {
      const timestamp = new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
      return {
        ...headers,
        'x-zendesk-webhook-signature-timestamp': timestamp,
        'x-zendesk-webhook-signature': createHmac('sha256', secret).update(timestamp + body, 'utf8').digest('base64'),
      };
    }
    case 'github':
      return { ...headers, 'x-hub-signature-256': await githubSign(secret, body) };
    case 'standard':
    case 'mcp-events': {
      const id = headers['webhook-id'] ?? 'msg_oracle0000000000000001';
      return {
        ...headers,
        'webhook-id': id,
        'webhook-timestamp': String(seconds),
        'webhook-signature': new Webhook(secret).sign(id, new Date(seconds * 1000), body),
      };
    }
  }
}

export function request(body: string | Buffer, headers: Record<string, string>): WebhookRequest {
  return { rawBody: Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'), headers };
}

export { sampleNames as fixtureNames } from '../../src/ingest/samples.js';

/** A shipped sample with its body as the string the tests sign. */
export function loadFixture(name: SampleName) {
  const sample = loadSample(name);
  return { source: sample.provider, headers: sample.headers, body: sample.body, rawBody: sample.rawBody.toString('utf8') };
}
