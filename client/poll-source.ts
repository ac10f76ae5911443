import { z } from 'zod';
import type { Event } from '../src/events/event.js';
import { sleep } from './backoff.js';
import { customRequest } from './connection.js';
import { type Source, streamTarget } from './source.js';

const pageSchema = z.looseObject({
  events: z.array(z.looseObject({ cursor: z.string(), data: z.looseObject({ id: z.string() }) })),
  cursor: z.string(),
  hasMore: z.boolean().optional(),
  truncated: z.boolean().optional(),
  nextPollMs: z.number().optional(),
});

/** Extra time a long poll gets beyond its own `timeoutMs` before the request counts as lost. */
const POLL_GRACE_MS = 30_000;

/**
 * Poll: `events/poll` from the saved cursor, handling each page in order and saving the
 * page cursor once all of it was handled. When caught up it long-polls (`timeoutMs`), so an
 * event arrives as soon as it is committed. A server that answers a long poll early with
 * nothing (it does not long-poll) is asked again only after its `nextPollMs`.
 */
export const pollSource: Source = async (context) => {
  const { client, delivery, signal } = context;
  let caughtUp = false;
  try {
    while (!signal.aborted) {
      const timeoutMs = caughtUp ? context.pollTimeoutMs : 0;
      const asked = performance.now();
      const from = delivery.cursor;
      const page = pageSchema.parse(
        await customRequest(
          client,
          'events/poll',
          { ...streamTarget(context.filter), cursor: from, maxEvents: 100, timeoutMs },
          { signal, timeout: timeoutMs + POLL_GRACE_MS },
        ),
      );
      context.established();
      if (page.truncated) {
        // The relay answers a cursor it no longer holds with no events and resumedAt as the
        // cursor; an answer that carries events did not say where the gap ended.
        context.report({ kind: 'truncated', after: from, resumedAt: page.events.length === 0 ? page.cursor : null });
      }
      for (const occurrence of page.events) {
        await delivery.handle(occurrence.data as unknown as Event);
        await delivery.advance(occurrence.cursor);
      }
      await delivery.advance(page.cursor);
      const early = caughtUp && page.events.length === 0 && performance.now() - asked < timeoutMs / 2;
      if (early) await sleep(page.nextPollMs ?? 5_000, signal);
      caughtUp = page.hasMore !== true;
    }
  } catch (error) {
    if (!signal.aborted) throw error;
  }
};
