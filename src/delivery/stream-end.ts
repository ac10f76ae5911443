import { isStoreFailure } from '../http/errors.js';

/**
 * Why a stream to a reader (an `events/stream` response, a `/feed`) ended: one of these in
 * the log line and as the `reason` label of `relay_stream_ends_total`.
 *
 * - `client_closed`: the reader went away (closed the connection, or a socket error).
 * - `reader_too_slow`: its unsent bytes passed the buffer bound; it resumes by cursor.
 * - `lifetime`: rotated after the configured lifetime.
 * - `shutdown`: the relay is stopping.
 * - `session_closed`: its 2025-11-25 session was deleted.
 * - `cancelled`: the client cancelled the request (`notifications/cancelled`).
 * - `replaced`: a resumption of the same stream took over.
 * - `store_error`: the event log could not be read.
 * - `internal_error`: anything else; the error is logged with it.
 */
export type StreamEndReason =
  | 'client_closed'
  | 'reader_too_slow'
  | 'lifetime'
  | 'shutdown'
  | 'session_closed'
  | 'cancelled'
  | 'replaced'
  | 'store_error'
  | 'internal_error';

/** How a stream ended, with the error behind a failure. */
export interface StreamEnd {
  reason: StreamEndReason;
  error?: Error;
}

/** A failed read of the log is the store's fault; any other failure is ours. */
export function failureEnd(error: Error): StreamEnd {
  return { reason: isStoreFailure(error) ? 'store_error' : 'internal_error', error };
}
