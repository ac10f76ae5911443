import type { Event } from '../src/events/event.js';

/**
 * What `onError` receives. Only `fatal` ends the subscription; after the others delivery
 * goes on: `handler` (onEvent kept throwing; the event is skipped and acknowledged),
 * `truncated` (the resume cursor was older than retention or unknown: events may be
 * missing before the ones that follow), `connection` (the link failed; reconnecting after
 * `delayMs`).
 */
export type SubscriptionError =
  | { kind: 'handler'; event: Event; attempts: number; cause: unknown }
  | { kind: 'truncated'; cursor: string | null }
  | { kind: 'connection'; attempt: number; delayMs: number; cause: unknown }
  | { kind: 'fatal'; cause: unknown };

export type EventClientErrorCode = 'invalid_options' | 'unsupported_filter' | 'stream_silent' | 'stream_lost' | 'tool_error' | 'closed';

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
