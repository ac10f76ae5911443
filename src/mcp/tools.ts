import { type McpServer, ProtocolError } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { LogError } from '../log/log-error.js';
import { ownedGroup } from './access.js';
import type { RelayContext } from './relay-context.js';
import { WireCode } from './wire-errors.js';

const eventShape = z
  .object({
    id: z.string(),
    source: z.string(),
    type: z.string(),
    sourceType: z.string(),
    sourceEventId: z.string(),
    subject: z.string().optional(),
    customerId: z.string().optional(),
    occurredAt: z.string(),
    receivedAt: z.string(),
    data: z.record(z.string(), z.unknown()),
    raw: z.unknown(),
  })
  .passthrough();

const claimedShape = eventShape.extend({ deliveryCount: z.number(), leaseExpiresAt: z.number() });

function result<T extends Record<string, unknown>>(value: T) {
  return { content: [{ type: 'text' as const, text: JSON.stringify(value) }], structuredContent: value };
}

/** A refusal the model can read and act on, instead of a protocol error it cannot see. */
function toolError(code: string, message: string) {
  return { isError: true, content: [{ type: 'text' as const, text: JSON.stringify({ error: code, message }) }] };
}

async function guarded<T>(run: () => Promise<T>) {
  try {
    return await run();
  } catch (error) {
    if (error instanceof LogError && error.code !== 'store_unavailable' && error.code !== 'closed') return toolError(error.code, error.message);
    if (error instanceof ProtocolError && error.code === WireCode.forbidden) return toolError('forbidden', error.message);
    throw error;
  }
}

/** The polling tools: every client, both eras, no capability needed. */
export function registerTools(server: McpServer, principal: string, context: RelayContext): void {
  const { log } = context;
  server.registerTool(
    'check_pending_events',
    {
      title: 'Check pending events',
      description:
        'Call at the start of each turn, and whenever you are told events may be waiting: returns the customer events (failed payments, delayed orders, escalated tickets, …) that arrived since you last acknowledged, oldest first, and leases them to you so no one else in your group handles them. Call ack_event for each one once you have handled it; an event you do not acknowledge before its lease ends comes back (with a higher deliveryCount).',
      inputSchema: z.object({
        group: z.string().min(1).max(128).optional().describe('Consumer group; defaults to your principal. Members of one group share the work.'),
        limit: z.number().int().min(1).max(100).default(10).describe('At most this many events.'),
        types: z.array(z.string().min(1)).max(50).optional().describe('Only these types; globs like "payment.*" allowed.'),
        leaseMs: z.number().int().min(1000).max(3_600_000).optional().describe('How long the events stay yours before they are offered again.'),
      }),
      outputSchema: z.object({ events: z.array(claimedShape), remaining: z.number().int() }),
    },
    async ({ group, limit, types, leaseMs }) =>
      guarded(async () => {
        const name = ownedGroup(principal, group);
        context.knownGroups.add(name);
        const events = await log.claim(name, { limit, leaseMs, filter: types ? { types } : undefined });
        for (const event of events) context.delivery.delivered(event.id);
        const counts = await log.pending(name);
        return result({ events, remaining: Math.max(0, counts.pending - counts.leased) });
      }),
  );

  server.registerTool(
    'get_customer_context',
    {
      title: 'Get customer context',
      description:
        'Call when a customer contacts you, or when an event names a customerId: returns what the relay already knows about that customer (payment status with a suggested action, order and shipment status, open escalations), each fact with the event that wrote it.',
      inputSchema: z.object({ customerId: z.string().min(1).max(256).describe('The customer id as the events carry it, e.g. cus_123.') }),
      outputSchema: z.object({ customerId: z.string(), facts: z.record(z.string(), z.looseObject({ value: z.unknown(), eventId: z.string(), occurredAt: z.string(), updatedAt: z.string() })) }),
    },
    async ({ customerId }) => result({ ...(await context.memory.get(customerId)) }),
  );

  server.registerTool(
    'ack_event',
    {
      title: 'Acknowledge events',
      description:
        'Call after you have handled an event returned by check_pending_events, so it is not delivered again. Pass eventId for one event or eventIds for several (all or none are acknowledged).',
      inputSchema: z.object({
        eventId: z.string().min(1).max(64).optional(),
        eventIds: z.array(z.string().min(1).max(64)).min(1).max(100).optional(),
        group: z.string().min(1).max(128).optional().describe('The group you claimed the events in; defaults to your principal.'),
      }),
      outputSchema: z.object({ acknowledged: z.literal(true), count: z.number().int() }),
    },
    async ({ eventId, eventIds, group }) =>
      guarded(async () => {
        const ids = [...(eventId === undefined ? [] : [eventId]), ...(eventIds ?? [])];
        if (ids.length === 0) return toolError('invalid_argument', 'pass eventId or eventIds');
        await log.ack(ownedGroup(principal, group), ids);
        for (const id of ids) context.delivery.acked(id);
        return result({ acknowledged: true as const, count: ids.length });
      }),
  );
}
