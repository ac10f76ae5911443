import { type McpServer, type ServerContext } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { EventFilter } from '../events/filter.js';
import { LOG_START } from '../events/ulid.js';
import { seekByAge } from '../delivery/age-seek.js';
import { openReader } from '../delivery/reader.js';
import type { EventLog } from '../log/event-log.js';
import { declaresEvents } from './client-capabilities.js';
import { eventTypeDescriptors, filterFor, toOccurrence } from './event-types.js';
import type { RelayContext } from './relay-context.js';
import { limitReached, missingEventsCapability } from './wire-errors.js';

const MAX_LONG_POLL_MS = 60_000;

export const pollParamsSchema = z.object({
  name: z.string().min(1).max(200),
  arguments: z.record(z.string(), z.unknown()).optional(),
  cursor: z.string().max(64).nullable().default(null),
  maxEvents: z.number().int().min(1).max(1000).default(100),
  maxAgeMs: z.number().int().min(1).optional(),
  timeoutMs: z.number().int().min(0).max(MAX_LONG_POLL_MS).default(0),
});

/**
 * Resolves when something after `cursor` is worth a read — an event matching `filter`, a gap,
 * a failed read — or at `timeoutMs`, or on abort.
 */
function waitForEvent(log: EventLog, cursor: string, filter: EventFilter, timeoutMs: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      reader.stop();
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    const reader = openReader(log, { after: cursor, filter, pageSize: 1 }, { events: done, gap: done, failed: done });
    signal.addEventListener('abort', done);
  });
}

/**
 * `events/list` and `events/poll` (Events working-group draft). Only clients that declared
 * the `events` capability may call them; every other client keeps the polling tools. A poll
 * that would wait (`timeoutMs`, nothing to return yet) holds a slot of `context.longPolls`
 * until the wait ends; over the principal's or the relay's bound it is refused with -32013.
 *
 * `nextPollMs`: 0 while there is more to read, and after any long poll (`timeoutMs > 0`) —
 * the long poll is the wait, and another one can start at once; `context.nextPollMs` after a
 * short poll that returned everything. `maxAgeMs` moves the cursor past older events by the
 * time in their ids before the page is read, and the answer says `truncated` when that
 * passed over anything.
 */
export function registerEventMethods(
  server: McpServer,
  session: { era: 'legacy' | 'modern'; principal: string; clientCapabilities(ctx: ServerContext): Record<string, unknown> | undefined },
  context: RelayContext,
): void {
  const { era, principal } = session;
  const requireEvents = (ctx: ServerContext) => {
    if (!declaresEvents(session.clientCapabilities(ctx))) throw missingEventsCapability(era);
  };

  server.server.setRequestHandler('events/list', { params: z.object({ cursor: z.string().optional() }).passthrough().optional() }, async (_params, ctx) => {
    requireEvents(ctx);
    return { events: eventTypeDescriptors() };
  });

  server.server.setRequestHandler('events/poll', { params: pollParamsSchema.passthrough() }, async (params, ctx) => {
    requireEvents(ctx);
    const filter = filterFor(params.name, params.arguments);
    const { log } = context;
    const nextPollMs = (hasMore: boolean) => (hasMore || params.timeoutMs > 0 ? 0 : context.nextPollMs);
    if (params.cursor === null) {
      return { events: [], cursor: (await log.head()) ?? LOG_START, hasMore: false, truncated: false, nextPollMs: nextPollMs(false) };
    }
    const start = await seekByAge(log, params.cursor, filter, params.maxAgeMs, Date.now());
    let page = await log.read({ after: start.after, filter, limit: params.maxEvents });
    if (page.truncated) {
      // The gap is its own answer, its cursor where delivery resumed: the client learns exactly
      // what it missed, and its next poll (at once) reads on from there.
      return { events: [], cursor: page.resumedAt, hasMore: true, truncated: true, nextPollMs: nextPollMs(true) };
    }
    if (page.events.length === 0 && !page.hasMore && params.timeoutMs > 0 && !start.skipped) {
      const slot = context.longPolls.take(principal);
      if (!slot.ok) throw limitReached(slot.refusal);
      try {
        await waitForEvent(log, page.cursor ?? LOG_START, filter, params.timeoutMs, ctx.mcpReq.signal);
      } finally {
        slot.release();
      }
      page = await log.read({ after: page.cursor ?? LOG_START, filter, limit: params.maxEvents });
    }
    for (const event of page.events) context.delivery.delivered(event.id);
    return {
      events: page.events.map((e) => toOccurrence(e, params.name)),
      cursor: page.cursor ?? LOG_START,
      hasMore: page.hasMore,
      truncated: start.skipped,
      nextPollMs: nextPollMs(page.hasMore),
    };
  });
}
