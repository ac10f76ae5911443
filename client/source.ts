import type { Client } from '@modelcontextprotocol/client';
import type { Delivery } from './delivery.js';
import type { DeliveryMode, EventFilter, EventSubscription } from './options.js';
import type { SubscriptionError } from './subscription-error.js';
import type { WebhookLink } from './webhook-link.js';

/** What one mode's loop gets for one connection. */
export interface SourceContext {
  client: Client;
  delivery: Delivery;
  filter: EventFilter;
  /** The Events-extension subscription push and poll make: `event`, else the relay's `filter`. */
  target: Required<EventSubscription>;
  group: string | undefined;
  leaseMs: number | undefined;
  heartbeatMs: number;
  pollTimeoutMs: number;
  toolsIntervalMs: number;
  /** Webhook: the subscription's callback URL, secret and receiving endpoint. */
  webhook: WebhookLink | undefined;
  /** Aborted by unsubscribe: the loop returns quietly. */
  signal: AbortSignal;
  /** Called when the server has accepted the subscription (events from now on are seen). */
  established(): void;
  report(error: SubscriptionError): void;
}

/**
 * One mode over one connection. Returns when the server ended the delivery normally
 * (the caller starts it again from the cursor) or when stopped; throws when the
 * connection failed (the caller reconnects with backoff).
 */
export type Source = (context: SourceContext) => Promise<void>;

export type SourceTable = Record<DeliveryMode, Source>;

/** The Events-extension subscription: `event` as given, else the relay's `cx_events`, which filters by all three. */
export function subscriptionTarget(event: EventSubscription | undefined, filter: EventFilter): Required<EventSubscription> {
  if (event) return { name: event.name, arguments: event.arguments ?? {} };
  const args: Record<string, string[]> = {};
  if (filter.types?.length) args.types = filter.types;
  if (filter.sources?.length) args.sources = filter.sources;
  if (filter.subjects?.length) args.subjects = filter.subjects;
  return { name: 'cx_events', arguments: args };
}
