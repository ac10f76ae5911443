import { ProtocolError } from '@modelcontextprotocol/client';
import { z } from 'zod';
import type { Event } from '../src/events/event.js';
import { sleep } from './backoff.js';
import { customRequest, isPermanent, onTransportError, retryAfterMs } from './connection.js';
import type { Source } from './source.js';
import { EventClientError } from './subscription-error.js';

const cursor = z.string().nullable().optional();
const activeParams = z.looseObject({ cursor, truncated: z.boolean().optional() });
const eventParams = z.looseObject({ eventId: z.string(), data: z.looseObject({}), cursor });
const heartbeatParams = z.looseObject({ cursor });
const endParams = z.looseObject({ error: z.looseObject({ code: z.number(), message: z.string(), data: z.unknown().optional() }) });

/**
 * Push: one `events/stream` from the saved cursor. Notifications arrive faster than
 * onEvent may take them, so they queue and are handled one by one, in the order the server
 * sent them. Cursors are opaque and never compared: an event whose `eventId` was handled
 * already (a replay) is dropped without moving the cursor, and every other cursor the
 * server sends (events, heartbeats, `active`) becomes the resume point in its turn. A gap
 * (`notifications/events/active` with `truncated`, at the start or mid-stream) is reported
 * in its place in the queue, with the last cursor the stream gave before it.
 *
 * The stream is dead when the transport reports an error (a cut response: the server died;
 * the request itself would never settle), after twice the heartbeat interval without any
 * frame (a half-open socket nothing reports), or when `notifications/events/terminated`
 * carries an error a retry cannot cure (access revoked), which ends the subscription. The
 * stream ends normally with its final result, after a `terminated` for any other reason
 * (its lifetime, a shutdown) or without one; the caller then opens the next one from the
 * cursor, after the `retryAfterMs` the termination asked for. `notifications/events/error`
 * is trouble the server recovers from itself: the stream goes on. Before returning,
 * everything queued is handled, so the next stream starts exactly after it.
 */
export const pushSource: Source = async (context) => {
  const { client, delivery, signal } = context;
  const stream = new AbortController();
  const stop = () => stream.abort(signal.reason);
  signal.addEventListener('abort', stop, { once: true });

  let queue: Promise<void> = Promise.resolve();
  let failure: unknown;
  /** Why the stream itself is over (silent, cut, refused for good), thrown once the queue is drained. */
  let dead: unknown;
  /** A termination the next stream may follow: the server ended this one for a reason a retry cures. */
  let terminated: unknown;
  const requested = delivery.cursor;
  /** The last cursor the stream gave, in arrival order: where a gap starts. */
  let position = requested;

  const enqueue = (work: () => Promise<void>) => {
    queue = queue
      .then(() => (signal.aborted || failure !== undefined ? undefined : work()))
      .catch((error: unknown) => {
        failure ??= error;
        stream.abort(error);
      });
  };
  /** Queues saving `next` as the resume point, after everything queued before it. */
  const advanceTo = (next: string | null | undefined) => {
    if (typeof next !== 'string') return;
    position = next;
    enqueue(() => delivery.advance(next));
  };
  const die = (error: unknown) => {
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
      // Events after where the stream stood were not delivered; the next ones follow the fresh cursor.
      const gap = { kind: 'truncated', after: position, resumedAt: params.cursor ?? null } as const;
      enqueue(async () => context.report(gap));
    }
    // Not truncated: the head cursor of a `cursor: null` stream, saved so a restart resumes from here.
    advanceTo(params.cursor);
    context.established();
  });
  client.setNotificationHandler('notifications/events/event', { params: eventParams }, (params) => {
    watch();
    const next = params.cursor;
    if (typeof next === 'string') position = next;
    enqueue(async () => {
      if (await delivery.handle(params.data as unknown as Event, params.eventId)) await delivery.advance(next);
    });
  });
  // The heartbeat cursor moves past events that do not match the subscription.
  client.setNotificationHandler('notifications/events/heartbeat', { params: heartbeatParams }, (params) => {
    watch();
    advanceTo(params.cursor);
  });
  client.setNotificationHandler('notifications/events/error', { params: endParams }, () => watch());
  client.setNotificationHandler('notifications/events/terminated', { params: endParams }, ({ error }) => {
    watch();
    const reason = ProtocolError.fromError(error.code, error.message, error.data);
    if (isPermanent(reason)) die(reason);
    else terminated = reason;
  });

  watch();
  try {
    const result = await customRequest(client, 'events/stream', { ...context.target, cursor: requested }, { signal: stream.signal });
    // The draft's final result is empty; a server may say where the stream ended.
    advanceTo(typeof result.cursor === 'string' ? result.cursor : undefined);
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
  const wait = retryAfterMs(terminated);
  if (wait !== undefined) await sleep(wait, signal).catch(() => undefined);
};
