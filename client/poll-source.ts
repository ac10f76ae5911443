import { z } from 'zod';
import type { Event } from '../src/events/event.js';
import { sleep } from './backoff.js';
import { customRequest } from './connection.js';
import type { Source } from './source.js';

/** What the draft's `events/poll` result carries; a cursor per occurrence is optional (poll keeps it at response level). */
const pageSchema = z.looseObject({
  events: z.array(z.looseObject({ eventId: z.string(), data: z.looseObject({}), cursor: z.string().nullable().optional() })),
  cursor: z.string().nullable().optional(),
  hasMore: z.boolean().optional(),
  truncated: z.boolean().optional(),
  nextPollMs: z.number().min(0).optional(),
});

/** Extra time a long poll gets beyond its own `timeoutMs` before the request counts as lost. */
const POLL_GRACE_MS = 30_000;

/**
 * The draft's floor between polls, applied only when a long poll from a cursor came back
 * empty well before its `timeoutMs` (a server that does not hold polls): otherwise the wait
 * the server asks for is honoured as given, `nextPollMs: 0` after a held poll included.
 */
const POLL_FLOOR_MS = 1_000;

/**
 * Poll: `events/poll` from the saved cursor, handling each page in order and saving the
 * page cursor once all of it was handled. Every poll is a long poll (`timeoutMs`), answered
 * as soon as the server has something, so an event arrives when the server has it.
 * `hasMore` polls again at once; otherwise the client first waits the `nextPollMs` the
 * server asked for. A gap (`truncated`) is reported before the page's events: it ended at
 * the page cursor when the page is empty, and otherwise somewhere before the first event,
 * which a poll gives no cursor of its own.
 */
export const pollSource: Source = async (context) => {
  const { client, delivery, signal } = context;
  const timeoutMs = context.pollTimeoutMs;
  try {
    while (!signal.aborted) {
      const asked = performance.now();
      const from = delivery.cursor;
      const page = pageSchema.parse(
        await customRequest(
          client,
          'events/poll',
          { ...context.target, cursor: from, maxEvents: 100, timeoutMs },
          { signal, timeout: timeoutMs + POLL_GRACE_MS },
        ),
      );
      context.established();
      if (page.truncated) context.report({ kind: 'truncated', after: from, resumedAt: page.events.length === 0 ? (page.cursor ?? null) : null });
      for (const occurrence of page.events) {
        if (await delivery.handle(occurrence.data as unknown as Event, occurrence.eventId)) await delivery.advance(occurrence.cursor);
      }
      await delivery.advance(page.cursor);
      if (page.hasMore === true) continue;
      const early = from !== null && timeoutMs > 0 && page.events.length === 0 && performance.now() - asked < timeoutMs / 2;
      const waitMs = Math.max(page.nextPollMs ?? 0, early ? POLL_FLOOR_MS : 0);
      if (waitMs > 0) await sleep(waitMs, signal);
    }
  } catch (error) {
    if (!signal.aborted) throw error;
  }
};
