import { z } from 'zod';
import type { Event } from '../events/event.js';
import { catalogueTypes } from '../events/catalogue.js';
import type { EventFilter } from '../events/filter.js';
import { eventFilterSchema } from '../events/filter.js';
import { invalidParams, unknownEventName } from './wire-errors.js';

/**
 * The Events-extension view of the log: named event types a client subscribes to, and the
 * occurrences it receives. One aggregate type, `cx_events`, filters the whole log by its
 * arguments; every catalogue type is also a type of its own.
 */
export const AGGREGATE_EVENT = 'cx_events';

/** `{ eventId, name, timestamp, data, cursor }`: what one delivery of an event carries. */
export interface Occurrence {
  /** The upstream's stable id (Stripe `evt_…`, a delivery id): stable across redeliveries. */
  eventId: string;
  name: string;
  /** When it happened upstream. */
  timestamp: string;
  /** The normalized event, raw payload under `raw`. */
  data: Event;
  /** The log position (ULID): resume after it. */
  cursor: string;
}

export function toOccurrence(event: Event, name: string): Occurrence {
  return { eventId: event.id, name, timestamp: event.occurredAt, data: event, cursor: event.id };
}

const aggregateArguments = eventFilterSchema;
const typeArguments = eventFilterSchema.omit({ types: true });

const payloadSchema = {
  type: 'object',
  required: ['id', 'source', 'type', 'sourceType', 'sourceEventId', 'occurredAt', 'receivedAt', 'data'],
  properties: {
    id: { type: 'string', description: 'log position (ULID)' },
    source: { type: 'string' },
    type: { type: 'string' },
    sourceType: { type: 'string' },
    sourceEventId: { type: 'string' },
    subject: { type: 'string' },
    customerId: { type: 'string' },
    occurredAt: { type: 'string', format: 'date-time' },
    receivedAt: { type: 'string', format: 'date-time' },
    data: { type: 'object' },
    raw: {},
  },
};

export interface EventTypeDescriptor {
  name: string;
  description: string;
  delivery: ('poll' | 'push' | 'webhook')[];
  inputSchema: Record<string, unknown>;
  payloadSchema: Record<string, unknown>;
}

export function eventTypeDescriptors(): EventTypeDescriptor[] {
  const delivery: EventTypeDescriptor['delivery'] = ['poll', 'push', 'webhook'];
  return [
    {
      name: AGGREGATE_EVENT,
      description:
        'Every customer-experience event the relay has received, in log order. Narrow it with `types` (exact or globs like "payment.*"), `sources` and `subjects` (e.g. "customer:cus_123").',
      delivery,
      inputSchema: z.toJSONSchema(aggregateArguments) as Record<string, unknown>,
      payloadSchema,
    },
    ...catalogueTypes.map((type) => ({
      name: type,
      description: `Only ${type} events; narrow further with \`sources\` and \`subjects\`.`,
      delivery,
      inputSchema: z.toJSONSchema(typeArguments) as Record<string, unknown>,
      payloadSchema,
    })),
  ];
}

/** The log filter a subscription stands for; unknown names and bad arguments are wire errors. */
export function filterFor(name: string, args: unknown): EventFilter {
  const isType = (catalogueTypes as readonly string[]).includes(name);
  if (name !== AGGREGATE_EVENT && !isType) throw unknownEventName(name);
  const parsed = (isType ? typeArguments : aggregateArguments).safeParse(args ?? {});
  if (!parsed.success) throw invalidParams(`invalid arguments for ${name}: ${z.prettifyError(parsed.error)}`);
  return isType ? { ...parsed.data, types: [name] } : parsed.data;
}
