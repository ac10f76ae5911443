import { modeFromEnv } from './env-mode.js';
import type { EventClientOptions, SubscribeOptions } from './options.js';
import { type Subscription, startSubscription } from './subscription.js';
import { validateClientOptions, validateSubscribeOptions } from './validate-options.js';

export interface EventClient {
  /** Starts delivering matching events to `onEvent`; resolves once the relay accepted it. */
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  /** Ends every subscription of this client. */
  close(): Promise<void>;
}

/**
 * A client of one relay. Each subscription has its own MCP connection, so its
 * notifications, reconnects and mode are its own.
 */
export function createEventClient(options: EventClientOptions): EventClient {
  validateClientOptions(options);
  const settings = { ...options, mode: options.mode ?? modeFromEnv() };
  const live = new Set<Subscription>();
  return {
    async subscribe(subscribeOptions) {
      validateSubscribeOptions(subscribeOptions);
      const subscription = await startSubscription(settings, subscribeOptions);
      live.add(subscription);
      void subscription.closed.then(() => live.delete(subscription));
      return subscription;
    },
    async close() {
      await Promise.all([...live].map((s) => s.unsubscribe()));
    },
  };
}
