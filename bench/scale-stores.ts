import { type Backend, openBackend } from '../src/backend.js';
import { ConfigError, loadConfig } from '../src/config.js';
import type { NewEvent } from '../src/events/event.js';
import { stripePaymentFailed } from './stripe-event.js';

/**
 * The stores the `scale` benchmark compares, opened the way the relay opens them (its own
 * config parsing and `openBackend`), so a store the relay gains is measured with no change here.
 */

const BATCH = 1000;

/** The relay's stores for `RELAY_STORE=<store>`, in this process; `close()` closes them all. */
export function openStore(store: string): Backend {
  const config = loadConfig({ RELAY_STORE: store });
  return openBackend(config.store, config.log);
}

/** Why the relay refuses `RELAY_STORE=<store>`, or undefined when it accepts it. */
export function storeRefusal(store: string): string | undefined {
  try {
    loadConfig({ RELAY_STORE: store });
    return undefined;
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
}

/**
 * Appends `events` Stripe events straight to the store, by batches of 1000, before the relay
 * serving it starts: a fast way to give a subscriber a long backlog to miss.
 */
export async function preloadStore(store: string, events: number): Promise<void> {
  const backend = openStore(store);
  try {
    for (let done = 0; done < events; done += BATCH) {
      const batch: NewEvent[] = Array.from({ length: Math.min(BATCH, events - done) }, stripePaymentFailed);
      await backend.log.append(batch);
    }
  } finally {
    await backend.close();
  }
}
