import { type McpServer, ProtocolError } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { DeliveryRef } from '../log/event-log.js';
import { LogError } from '../log/log-error.js';
import { ownedGroup } from './group-registry.js';
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

const eventIdSchema = z.string().min(1).max(64);
/** The lease token ack_event takes back: the deliveryCount the claim returned. */
const deliveryCountSchema = z.number().int().min(1);

function result<T extends Record<string, unknown>>(value: T) {
  return { content: [{ type: 'text' as const, text: JSON.stringify(value) }], structuredContent: value };
}

/** A refusal the model can read and act on, instead of a protocol error it cannot see. */
function toolError(code: string, message: string, details: Record<string, unknown> = {}) {
  return { isError: true, content: [{ type: 'text' as const, text: JSON.stringify({ error: code, message, ...details }) }] };
}

async function guarded<T>(run: () => Promise<T>) {
  try {
    return await run();
  } catch (error) {
    if (error instanceof LogError && error.code !== 'store_unavailable' && error.code !== 'closed') return toolError(error.code, error.message);
    if (error instanceof ProtocolError && error.code === WireCode.forbidden) return toolError('forbidden', error.message);
    if (error instanceof ProtocolError && error.code === WireCode.resourceExhausted) return toolError('limit_reached', error.message, error.data as Record<string, unknown>);
    throw error;
  }
}

/*
 * The tools' definitions, built once: every session registers the same schemas, and building
 * them per session cost about 90 KB of heap each.
 */
const checkPendingEventsTool = {
  title: 'Check pending events',
  description:
    'Call at the start of each turn, and whenever you are told events may be waiting: returns the customer events (failed payments, delayed orders, escalated tickets, …) that arrived since you last acknowledged, oldest first, and leases them to you so no one else in your group handles them. Call ack_event for each one once you have handled it, passing its id and the deliveryCount given here; an event you do not acknowledge before its lease ends comes back (with a higher deliveryCount), possibly to someone else.',
  inputSchema: z.object({
    group: z.string().min(1).max(128).optional().describe('Consumer group; defaults to your principal. Members of one group share the work.'),
    limit: z.number().int().min(1).max(100).default(10).describe('At most this many events.'),
    types: z.array(z.string().min(1).max(200)).max(50).optional().describe('Only these types; globs like "payment.*" allowed.'),
    leaseMs: z.number().int().min(1000).max(3_600_000).optional().describe('How long the events stay yours before they are offered again.'),
  }),
  outputSchema: z.object({ events: z.array(claimedShape), remaining: z.number().int() }),
};

const getCustomerContextTool = {
  title: 'Get customer context',
  description:
    'Call when a customer contacts you, or when an event names a customerId: returns what the relay already knows about that customer (payment status with a suggested action, order and shipment status, open escalations), each fact with the event that wrote it.',
  inputSchema: z.object({ customerId: z.string().min(1).max(256).describe('The customer id as the events carry it, e.g. cus_123.') }),
  outputSchema: z.object({ customerId: z.string(), facts: z.record(z.string(), z.looseObject({ value: z.unknown(), eventId: z.string(), occurredAt: z.string(), updatedAt: z.string() })) }),
};

const ackEventTool = {
  title: 'Acknowledge events',
  description:
    'Call after you have handled an event returned by check_pending_events, so it is not delivered again. Pass eventId with the deliveryCount check_pending_events gave you for it, or deliveries: [{ eventId, deliveryCount }] for several (all or none are acknowledged). If your lease ended and the event was handed out again since, the ack is refused with lease_lost: its new holder acknowledges it, so do not act on it again. eventId or eventIds without a deliveryCount acknowledge the event whoever holds it now.',
  inputSchema: z.object({
    eventId: eventIdSchema.optional(),
    deliveryCount: deliveryCountSchema.optional().describe('The deliveryCount check_pending_events gave you with eventId.'),
    deliveries: z
      .array(z.object({ eventId: eventIdSchema, deliveryCount: deliveryCountSchema }))
      .min(1)
      .max(100)
      .optional()
      .describe('Several events, each with the deliveryCount check_pending_events gave you.'),
    eventIds: z.array(eventIdSchema).min(1).max(100).optional().describe('Several events without their deliveryCount: acknowledged even if someone else holds them now.'),
    group: z.string().min(1).max(128).optional().describe('The group you claimed the events in; defaults to your principal.'),
  }),
  outputSchema: z.object({ acknowledged: z.literal(true), count: z.number().int() }),
};

/** The polling tools: every client, both eras, no capability needed. */
export function registerTools(server: McpServer, principal: string, context: RelayContext): void {
  const { log } = context;
  server.registerTool(
    'check_pending_events',
    checkPendingEventsTool,
    async ({ group, limit, types, leaseMs }) =>
      guarded(async () => {
        const name = await context.groups.use(principal, group);
        const events = await log.claim(name, { limit, leaseMs, filter: types ? { types } : undefined });
        for (const event of events) context.delivery.delivered(event.id);
        const counts = await log.pending(name);
        return result({ events, remaining: Math.max(0, counts.pending - counts.leased) });
      }),
  );

  server.registerTool(
    'get_customer_context',
    getCustomerContextTool,
    async ({ customerId }) => result({ ...(await context.memory.get(customerId)) }),
  );

  server.registerTool(
    'ack_event',
    ackEventTool,
    async ({ eventId, deliveryCount, deliveries, eventIds, group }) =>
      guarded(async () => {
        if (deliveryCount !== undefined && eventId === undefined) return toolError('invalid_argument', 'deliveryCount goes with eventId; for several events pass deliveries');
        const events: DeliveryRef[] = [
          ...(eventId === undefined ? [] : [deliveryCount === undefined ? eventId : { id: eventId, deliveryCount }]),
          ...(deliveries ?? []).map((d) => ({ id: d.eventId, deliveryCount: d.deliveryCount })),
          ...(eventIds ?? []),
        ];
        if (events.length === 0) return toolError('invalid_argument', 'pass eventId (with its deliveryCount), deliveries or eventIds');
        await log.ack(ownedGroup(principal, group), events);
        for (const event of events) context.delivery.acked(typeof event === 'string' ? event : event.id);
        return result({ acknowledged: true as const, count: events.length });
      }),
  );
}
