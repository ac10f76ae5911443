import { z } from 'zod';
import type { Event } from '../src/events/event.js';
import { customRequest, isPermanent, onTransportError } from './connection.js';
import { type Source, streamTarget } from './source.js';
import { EventClientError } from './subscription-error.js';

const activeParams = z.looseObject({ cursor: z.string().nullable().optional(), truncated: z.boolean().optional() });
const eventParams = z.looseObject({ cursor: z.string(), data: z.looseObject({ id: z.string() }) });
const heartbeatParams = z.looseObject({ cursor: z.string().nullable().optional() });

/**
 * Push: one `events/stream` from the saved cursor. Notifications arrive faster than
 * onEvent may take them, so they queue and are handled one by one; a frame at or behind
 * the last queued cursor (a replay, or a straggler of an earlier stream) is dropped. A gap
 * (`notifications/events/active` with `truncated`, at the start or mid-stream) is reported
 * in its place in the queue, and the stream's cursor moves to where the relay resumed.
 *
 * The stream is dead when the transport reports an error (a cut response: the relay died;
 * the request itself would never settle) or, for a half-open socket nothing reports, after
 * twice the heartbeat interval without any frame. It ends normally when the relay sends its
 * final result (rotation, shutdown); the caller then opens the next one from the cursor.
 * Before returning, everything queued is handled, so the next stream starts exactly after it.
 */
export const pushSource: Source = async (context) => {
  const { client, delivery, signal } = context;
  const stream = new AbortController();
  const stop = () => stream.abort(signal.reason);
  signal.addEventListener('abort', stop, { once: true });

  let queue: Promise<void> = Promise.resolve();
  let failure: unknown;
  /** Why the client gave up on the stream itself (silent, or cut), thrown once the queue is drained. */
  let dead: EventClientError | undefined;
  const requested = delivery.cursor;
  /** The stream's position as far as it was queued; null accepts any next cursor. */
  let lastQueued = requested;

  const enqueue = (work: () => Promise<void>) => {
    queue = queue
      .then(() => (signal.aborted || failure !== undefined ? undefined : work()))
      .catch((error: unknown) => {
        failure ??= error;
        stream.abort(error);
      });
  };
  const ahead = (cursor: string) => {
    if (lastQueued !== null && cursor <= lastQueued) return false;
    lastQueued = cursor;
    return true;
  };
  const die = (error: EventClientError) => {
    dead ??= error;
    stream.abort(error);
  };

  let timer: NodeJS.Timeout | undefined;
  const watch = () => {
    clearTimeout(timer);
    timer = setTimeout(
      () => die(new EventClientError('stream_silent', `push stream silent for ${2 * context.heartbeatMs} ms; resuming from the cursor`)),
      2 * context.heartbeatMs,
    );
  };
  const unwatchTransport = onTransportError(client, (error) =>
    // A refusal (credentials, forbidden) stays permanent under the wrapper, so it is not retried.
    die(new EventClientError('stream_lost', `push stream lost: ${error.message}; resuming from the cursor`, { cause: error, permanent: isPermanent(error) })),
  );

  client.setNotificationHandler('notifications/events/active', { params: activeParams }, (params) => {
    watch();
    if (params.truncated) {
      // Events after where the stream stood up to resumedAt are gone; the next ones follow
      // resumedAt, which can sort below the old cursor (an unknown cursor resumes at the start).
      const gap = { kind: 'truncated', after: lastQueued, resumedAt: params.cursor ?? null } as const;
      lastQueued = gap.resumedAt;
      enqueue(async () => {
        context.report(gap);
        if (gap.resumedAt !== null) await delivery.advance(gap.resumedAt);
      });
    } else if (params.cursor) {
      // The head cursor of a `cursor: null` stream: saved so a restart resumes from here.
      const cursor = params.cursor;
      if (ahead(cursor)) enqueue(() => delivery.advance(cursor));
    }
    context.established();
  });
  client.setNotificationHandler('notifications/events/event', { params: eventParams }, (params) => {
    watch();
    if (!ahead(params.cursor)) return;
    enqueue(async () => {
      await delivery.handle(params.data as unknown as Event);
      await delivery.advance(params.cursor);
    });
  });
  client.setNotificationHandler('notifications/events/heartbeat', { params: heartbeatParams }, (params) => {
    watch();
    // The heartbeat cursor moves past events that do not match the filter.
    const cursor = params.cursor;
    if (cursor && ahead(cursor)) enqueue(() => delivery.advance(cursor));
  });

  watch();
  try {
    const result = await customRequest(client, 'events/stream', { ...streamTarget(context.filter), cursor: requested }, { signal: stream.signal });
    const end = result.cursor;
    if (typeof end === 'string' && ahead(end)) enqueue(() => delivery.advance(end));
  } catch (error) {
    if (signal.aborted) return;
    if (failure === undefined && dead === undefined) throw error;
  } finally {
    clearTimeout(timer);
    unwatchTransport();
    signal.removeEventListener('abort', stop);
    stream.abort();
    await queue;
  }
  if (signal.aborted) return;
  if (failure !== undefined) throw failure;
  if (dead !== undefined) throw dead;
};
