import type { Client } from '@modelcontextprotocol/client';
import { z } from 'zod';
import { customRequest, isUnsupported } from './connection.js';
import type { DeliveryMode, EventSubscription } from './options.js';
import { EventClientError } from './subscription-error.js';

const listPage = z.looseObject({
  events: z.array(z.looseObject({ name: z.string(), delivery: z.array(z.string()).optional() })),
  nextCursor: z.string().optional(),
});

/** The delivery modes `events/list` gives for `name`, following its pages; `undefined` when it is not listed. */
async function listedDelivery(client: Client, name: string, signal: AbortSignal): Promise<string[] | undefined> {
  let cursor: string | undefined;
  do {
    const page = listPage.parse(await customRequest(client, 'events/list', cursor === undefined ? {} : { cursor }, { signal, timeout: 30_000 }));
    const type = page.events.find((event) => event.name === name);
    if (type) return type.delivery ?? [];
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return undefined;
}

/**
 * `auto`, as the draft has a client choose: the event type's `delivery` from `events/list`,
 * push when it lists push (every transport here streams), else poll. A server without
 * `events/*` for this client (unknown method, unsupported, capability refused) gets the
 * polling tools, which every relay has (another Events server has none).
 */
export async function negotiateMode(client: Client, target: Required<EventSubscription>, signal: AbortSignal): Promise<DeliveryMode> {
  let delivery: string[] | undefined;
  try {
    delivery = await listedDelivery(client, target.name, signal);
  } catch (error) {
    if (isUnsupported(error)) return 'tools';
    throw error;
  }
  if (delivery?.includes('push')) return 'push';
  if (delivery?.includes('poll')) return 'poll';
  const why = delivery === undefined ? 'is not listed by events/list' : `offers only ${delivery.join(', ') || 'no delivery mode'}`;
  throw new EventClientError('no_delivery_mode', `event type ${target.name} ${why}; this client uses push or poll`, { permanent: true });
}
