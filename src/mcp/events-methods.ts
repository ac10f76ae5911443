import { type McpServer, type ServerContext } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { EventFilter } from '../events/filter.js';
import { LOG_START, youngEnough } from '../events/ulid.js';
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
 */
export function registerEventMethods(
  server: McpServer,
  principal: string,
  context: RelayContext,
  clientCapabilities: (ctx: ServerContext) => Record<string, unknown> | undefined,
): void {
  const requireEvents = (ctx: ServerContext) => {
    if (!declaresEvents(clientCapabilities(ctx))) throw missingEventsCapability();
  };

  server.server.setRequestHandler('events/list', { params: z.object({ cursor: z.string().optional() }).passthrough().optional() }, async (_params, ctx) => {
    requireEvents(ctx);
    return { events: eventTypeDescriptors() };
  });

  server.server.setRequestHandler('events/poll', { params: pollParamsSchema.passthrough() }, async (params, ctx) => {
    requireEvents(ctx);
    const filter = filterFor(params.name, params.arguments);
    const { log } = context;
    if (params.cursor === null) {
      return { events: [], cursor: (await log.head()) ?? LOG_START, hasMore: false, truncated: false, nextPollMs: context.nextPollMs };
    }
    let page = await log.read({ after: params.cursor, filter, limit: params.maxEvents });
    if (page.truncated) {
      // The gap is its own answer, its cursor where delivery resumed: the client learns exactly
      // what it missed, and its next poll (at once) reads on from there.
      return { events: [], cursor: page.resumedAt, hasMore: true, truncated: true, nextPollMs: 0 };
    }
    if (page.events.length === 0 && !page.hasMore && params.timeoutMs > 0) {
      const slot = context.longPolls.take(principal);
      if (!slot.ok) throw limitReached(slot.refusal);
      try {
        await waitForEvent(log, page.cursor ?? LOG_START, filter, params.timeoutMs, ctx.mcpReq.signal);
      } finally {
        slot.release();
      }
      page = await log.read({ after: page.cursor ?? LOG_START, filter, limit: params.maxEvents });
    }
    const now = Date.now();
    const returned = page.events.filter((e) => youngEnough(e, params.maxAgeMs, now));
    for (const event of returned) context.delivery.delivered(event.id);
    return {
      events: returned.map((e) => toOccurrence(e, params.name)),
      cursor: page.cursor ?? LOG_START,
      hasMore: page.hasMore,
      truncated: false,
      nextPollMs: page.hasMore ? 0 : context.nextPollMs,
    };
  });
}
