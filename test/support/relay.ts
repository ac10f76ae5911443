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
  dispute_opened: 'stripe',
  order_created: 'shopify',
  order_shipped: 'shopify',
  order_fulfilled: 'shopify',
  order_delayed: 'shopify',
  order_delivered: 'shopify',
  order_canceled: 'shopify',
  ticket_created: 'zendesk',
  ticket_updated: 'zendesk',
  ticket_escalated: 'zendesk',
  ticket_solved: 'zendesk',
  github_issue: 'github',
  standard: 'standard',
};

/** What every test relay runs with: a free loopback port, the in-memory store, every source's secret; `env` over them. */
function baseEnv(env: Record<string, string>): Record<string, string> {
  return { PORT: '0', RELAY_STORE: 'memory', ...secretEnv, ...env };
}

/**
 * A test relay's environment: {@link baseEnv} with the reactions off unless `env` turns them
 * on. Tests count the events in the log exactly, and the reactions append derived events of
 * their own: the `payment.failed` that `ingest` posts becomes an `outreach.requested` too.
 */
export function testRelayEnv(env: Record<string, string> = {}): Record<string, string> {
  return baseEnv({ RELAY_REACTIONS: 'off', ...env });
}

/** A real relay on a free loopback port, in-memory unless `env` says otherwise, reactions off (see {@link testRelayEnv}). */
export async function startTestRelay(env: Record<string, string> = {}): Promise<Relay> {
  return startRelay(loadConfig(testRelayEnv(env)), createLogger('silent'));
}

/** A real relay as an operator who sets nothing but `env` gets it (reactions on), on a free loopback port, in memory. */
export async function startDefaultRelay(env: Record<string, string> = {}): Promise<Relay> {
  return startRelay(loadConfig(baseEnv(env)), createLogger('silent'));
}
