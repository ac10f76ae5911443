/**
 * mcp-event-relay/client: subscribe to a relay's events with one call, by push, long poll,
 * the polling tools or webhook, with the same events in the same order whichever mode is
 * used; and a receiver for webhook subscriptions made by hand.
 */
export { createEventClient, type EventClient } from './event-client.js';
export { modeFromEnv } from './env-mode.js';
export type { Subscription } from './subscription.js';
export type { BackoffOptions, ClientMode, DeliveryMode, EventClientLogger, EventClientOptions, EventFilter, EventSubscription, SubscribeOptions } from './options.js';
export { type CursorStore, memoryCursorStore } from './cursor-store.js';
export { fileCursorStore } from './file-cursor-store.js';
export { EventClientError, type EventClientErrorCode, type SubscriptionError } from './subscription-error.js';
export { createWebhookReceiver, type WebhookReceiver, type WebhookReceiverOptions } from './webhook-receiver.js';
export type { WebhookCallbacks, WebhookGap, WebhookOccurrence, WebhookTermination } from './webhook-endpoint.js';
export type { WebhookHandler } from './webhook-http.js';
export type { WebhookDeliveryStatus, WebhookState } from './webhook-link.js';
export type { Event } from '../src/events/event.js';
