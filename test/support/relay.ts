import type { Relay } from '../../src/app.js';
import { startRelay } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { SampleName } from '../../src/ingest/samples.js';
import { createLogger } from '../../src/observe/logger.js';

/** Secrets every test relay is configured with, one per built-in source. */
export const testSecrets = {
  stripe: 'whsec_test_stripe_secret',
  shopify: 'shpss_test_shopify_secret',
  zendesk: 'zendesk_test_secret',
  github: 'github_test_secret',
  standard: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
} as const;

export const secretEnv: Record<string, string> = {
  STRIPE_WEBHOOK_SECRET: testSecrets.stripe,
  SHOPIFY_WEBHOOK_SECRET: testSecrets.shopify,
  ZENDESK_WEBHOOK_SECRET: testSecrets.zendesk,
  GITHUB_WEBHOOK_SECRET: testSecrets.github,
  STANDARD_WEBHOOK_SECRET: testSecrets.standard,
};

/** The built-in route each shipped sample is delivered to. */
export const routeOfSample: Record<SampleName, keyof typeof testSecrets> = {
  payment_failed: 'stripe',
  payment_succeeded: 'stripe',
  refund: 'stripe',
  order_shipped: 'shopify',
  order_delayed: 'shopify',
  ticket_created: 'zendesk',
  ticket_escalated: 'zendesk',
  github_issue: 'github',
  standard: 'standard',
};

/** A real relay on a free loopback port, in-memory unless `env` says otherwise. */
export async function startTestRelay(env: Record<string, string> = {}): Promise<Relay> {
  const config = loadConfig({ PORT: '0', RELAY_STORE: 'memory', ...secretEnv, ...env });
  return startRelay(config, createLogger('silent'));
}
