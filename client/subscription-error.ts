import type { Event } from '../src/events/event.js';

/**
 * What `onError` receives. Only `fatal` ends the subscription; after the others delivery
 * goes on: `handler` (onEvent kept throwing; the event is skipped and acknowledged),
 * `truncated` (a gap: the server could not deliver from `after`, the cursor the subscription
 * stood on, and skipped events; delivery goes on from `resumedAt`, the fresh cursor it gave,
 * null when it gave none for the gap; webhook: `reason`, such as `retention`, or `http_413` for
 * an event the relay gave up), `connection` (the link failed; reconnecting after `delayMs`, the
 * server's `retryAfterMs` when it asked for one; webhook: the relay's link to the callback —
 * a suspension after sustained failure, its -32015 `terminated` error as the cause, answered
 * with a refresh at once; or a `deliveryStatus` that says deliveries are failing, an
 * `EventClientError` of code `callback_failing` whose cause is that status, `delayMs` until
 * the next refresh).
 */
export type SubscriptionError =
  | { kind: 'handler'; event: Event; attempts: number; cause: unknown }
  | { kind: 'truncated'; after: string | null; resumedAt: string | null; reason?: string }
  | { kind: 'connection'; attempt: number; delayMs: number; cause: unknown }
  | { kind: 'fatal'; cause: unknown };

export type EventClientErrorCode = 'invalid_options' | 'unsupported_filter' | 'no_delivery_mode' | 'stream_silent' | 'stream_lost' | 'tool_error' | 'callback_failing' | 'closed';

/** A local error of the client (wire errors from the relay keep their SDK type and code). */
export class EventClientError extends Error {
  override readonly name = 'EventClientError';
  /** Whether retrying cannot help (the subscription then ends with a `fatal` report). */
  readonly permanent: boolean;
  constructor(
    readonly code: EventClientErrorCode,
    message: string,
    options: { cause?: unknown; permanent?: boolean } = {},
  ) {
    super(message, { cause: options.cause });
    this.permanent = options.permanent ?? false;
  }
}
