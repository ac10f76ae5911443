import type { Event } from '../src/events/event.js';
import type { CursorStore } from './cursor-store.js';
import type { SubscriptionError } from './subscription-error.js';

/** How events reach the agent. Webhook: the relay POSTs each event to the app's own HTTP endpoint. */
export type DeliveryMode = 'push' | 'poll' | 'tools' | 'webhook';
/**
 * The modes a client runs with nothing but the relay's URL (`createEventClient`, `RELAY_CLIENT_MODE`).
 * `auto` picks the best the server offers: push, then poll, then tools; never webhook, which
 * needs a callback URL and is asked for per subscription.
 */
export type ClientMode = Exclude<DeliveryMode, 'webhook'> | 'auto';
export const CLIENT_MODES: readonly ClientMode[] = ['auto', 'push', 'poll', 'tools'];

/** Which events: exact values or globs (`payment.*`). Tools mode supports `types` only. */
export interface EventFilter {
  types?: string[];
  sources?: string[];
  subjects?: string[];
}

/** Where the client says what it is doing. The default is silent: a library does not write to the console. */
export interface EventClientLogger {
  info(message: string): void;
}

/** Exponential backoff with full jitter: attempt n waits a random time in [0, min(max, initial·factorⁿ)]. */
export interface BackoffOptions {
  initialDelayMs?: number;
  /** Growth of the bound per attempt (at least 1). */
  factor?: number;
  maxDelayMs?: number;
}

export interface EventClientOptions {
  /** The relay's MCP endpoint, e.g. `http://127.0.0.1:8787/mcp`. */
  url: string | URL;
  /** Bearer token (`RELAY_API_KEYS`); omitted for an open relay. */
  token?: string;
  /** Default: {@link modeFromEnv} (`RELAY_CLIENT_MODE`, else `auto`). */
  mode?: ClientMode;
  /** Told once per subscription which mode it uses. Default: no output. */
  logger?: EventClientLogger;
  /** The fetch the MCP transport uses (proxies, tests). */
  fetch?: typeof fetch;
  /** Push: the server's heartbeat interval; a stream silent for twice this is dead (a half-open socket). Default 15 000. */
  heartbeatMs?: number;
  /** Reconnection after a failed or dead connection. Default 250 ms, growing 1.5× per attempt to 5 s. */
  reconnect?: BackoffOptions;
  /** Poll: how long one long poll waits on the server (max 60 000). Default 25 000. */
  pollTimeoutMs?: number;
  /** Tools: pause between empty `check_pending_events` calls. Default 1 000. */
  toolsIntervalMs?: number;
}

/** One Events-extension subscription as the draft names it: an event type and its arguments. */
export interface EventSubscription {
  name: string;
  /** What the type's `inputSchema` (from `events/list`) accepts. */
  arguments?: Record<string, unknown>;
}

export interface SubscribeOptions {
  /** This subscription's mode. Default: the client's. `webhook` needs `callbackUrl` and is never picked by `auto`. */
  mode?: ClientMode | 'webhook';
  /**
   * Webhook: the public URL at which the app serves the client's `webhookHandler`; the relay
   * POSTs every event there (and verifies it before subscribing).
   */
  callbackUrl?: string | URL;
  /** Webhook: the signing secret (`whsec_` and the base64 of 24–64 bytes). Default: 32 fresh random bytes. */
  secret?: string;
  /** This relay's filter (`cx_events` with these arguments). Give `filter` or `event`, not both. */
  filter?: EventFilter;
  /** Push, poll, webhook: subscribe to any Events server's type by name instead of a relay filter. */
  event?: EventSubscription;
  /**
   * Awaited one event at a time, in the server's order; the event counts as handled when it
   * resolves. Push, poll and webhook pass each occurrence's `data` (from this relay: the {@link Event}).
   */
  onEvent: (event: Event) => Promise<void> | void;
  /** Failures that do not stop the subscription (and the one that does, kind `fatal`). */
  onError?: (error: SubscriptionError) => void;
  /** Resume after this cursor, one the server gave (push, poll, webhook). Default: the stored cursor, else from now. */
  cursor?: string;
  /** Where the cursor is kept once an event is handled. Default: in memory. */
  cursorStore?: CursorStore;
  /** Tools: the consumer group. Default: the caller's principal. */
  group?: string;
  /** Tools: lease length asked for (1 000 – 3 600 000 ms); keep it above onEvent's worst case. */
  leaseMs?: number;
  /** A throwing onEvent is tried this many times in all before it is reported and skipped. Default 3. */
  attempts?: number;
  /** Backoff between those tries. Default 100 ms doubling (factor 2) to 5 s. */
  retry?: BackoffOptions;
  /** How many recent event ids (push, poll, webhook: the occurrences' `eventId`) are remembered to drop duplicates. Default 1 000. */
  dedupWindow?: number;
}
