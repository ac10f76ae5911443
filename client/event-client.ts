import { modeFromEnv } from './env-mode.js';
import type { EventClientOptions, SubscribeOptions } from './options.js';
import { type Subscription, startSubscription } from './subscription.js';
import { validateClientOptions, validateSubscribeOptions } from './validate-options.js';
import { type WebhookHandler, webhookHandler } from './webhook-http.js';
import type { WebhookLink } from './webhook-link.js';

export interface EventClient {
  /** Starts delivering matching events to `onEvent`; resolves once the relay accepted it. */
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  /**
   * Receives the deliveries of every `mode: 'webhook'` subscription of this client: mount it
   * at the path of their `callbackUrl` before subscribing (the relay verifies the callback
   * while subscribing). Each delivery goes to the subscription whose secret signed it.
   */
  readonly webhookHandler: WebhookHandler;
  /** Ends every subscription of this client. */
  close(): Promise<void>;
}

/** How far a delivery's `webhook-timestamp` may be from this clock, either way. */
const WEBHOOK_TOLERANCE_SECONDS = 300;

/**
 * A client of one relay. Each subscription has its own MCP connection, so its
 * notifications, reconnects and mode are its own.
 */
export function createEventClient(options: EventClientOptions): EventClient {
  validateClientOptions(options);
  const settings = { ...options, mode: options.mode ?? modeFromEnv() };
  const live = new Set<Subscription>();
  const webhooks = new Set<WebhookLink>();
  return {
    async subscribe(subscribeOptions) {
      validateSubscribeOptions(subscribeOptions);
      const subscription = await startSubscription(settings, subscribeOptions, webhooks);
      live.add(subscription);
      void subscription.closed.then(() => live.delete(subscription));
      return subscription;
    },
    webhookHandler: webhookHandler(() => [...webhooks].map((link) => link.endpoint), WEBHOOK_TOLERANCE_SECONDS),
    async close() {
      await Promise.all([...live].map((s) => s.unsubscribe()));
    },
  };
}
