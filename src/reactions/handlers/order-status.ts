import type { Event } from '../../events/event.js';
import type { CustomerMemory } from '../../customer-memory/customer-memory.js';
import type { ReactionContext, ReactionHandler } from '../handler.js';
import { text } from '../payload.js';

/** The memory fact a customer's notification consent lives in: `true` opts in. */
export const NOTIFICATIONS_OPT_IN = 'notifications_opt_in';

/** Where `order.created` records an order's customer, for fulfillment events that name none. */
const orderEntry = (orderId: string) => `order:${orderId}`;

export const orderStatusKey = (orderId: string) => `order_${orderId}_status`;

const source = (event: Event) => ({ eventId: event.id, occurredAt: event.occurredAt });

/** The event's customer, or the one `order.created` recorded for its order. */
async function customerOf(event: Event, orderId: string, memory: CustomerMemory): Promise<string | null> {
  if (event.customerId) return event.customerId;
  const known = (await memory.get(orderEntry(orderId))).facts.customerId?.value;
  return typeof known === 'string' ? known : null;
}

/** Order and customer of an order event, or null when the event cannot be attached to one. */
async function orderOf(event: Event, ctx: ReactionContext) {
  const orderId = text(event.data.orderId);
  if (orderId === null) return null;
  const customerId = await customerOf(event, orderId, ctx.memory);
  return customerId === null ? null : { orderId, customerId };
}

/** `order.created` → remembers the order's customer (Shopify fulfillments do not carry it). */
export const orderCustomerHandler: ReactionHandler = {
  name: 'relay/order-customer',
  on: 'order.created',
  async handle(event, ctx) {
    const orderId = text(event.data.orderId);
    if (orderId === null || !event.customerId) return 'skipped';
    await ctx.memory.upsert(orderEntry(orderId), 'customerId', event.customerId, source(event));
  },
};

/** `order.shipped` → `order_<id>_status`; `notification.requested` when the customer opted in. */
export const orderShippedHandler: ReactionHandler = {
  name: 'relay/order-shipped',
  on: 'order.shipped',
  async handle(event, ctx) {
    const order = await orderOf(event, ctx);
    if (order === null) return 'skipped';
    const status = { status: 'shipped', trackingNumber: text(event.data.trackingNumber), carrier: text(event.data.carrier) };
    const outcome = await ctx.memory.upsert(order.customerId, orderStatusKey(order.orderId), status, source(event));
    // A late `shipped` after `delivered` is history, not news.
    if (outcome === 'stale') return;
    const context = await ctx.memory.get(order.customerId);
    if (context.facts[NOTIFICATIONS_OPT_IN]?.value !== true) return;
    await ctx.emit(
      'notification.requested',
      { reason: 'order_shipped', orderId: order.orderId, ...status, trackingUrl: text(event.data.trackingUrl) },
      { customerId: order.customerId },
    );
  },
};

/** `order.delayed` → `order_<id>_status` with the estimate it replaces (when known). */
export const orderDelayedHandler: ReactionHandler = {
  name: 'relay/order-delayed',
  on: 'order.delayed',
  async handle(event, ctx) {
    const order = await orderOf(event, ctx);
    if (order === null) return 'skipped';
    const key = orderStatusKey(order.orderId);
    const previous = (await ctx.memory.get(order.customerId)).facts[key]?.value as { newEstimate?: unknown } | undefined;
    const reason = text(event.data.delayReason);
    await ctx.memory.upsert(
      order.customerId,
      key,
      {
        status: 'delayed',
        originalDelivery: text(event.data.originalEstimate) ?? text(previous?.newEstimate) ?? null,
        newEstimate: text(event.data.newEstimate),
        // Shopify falls back to the bare carrier status, which says nothing about why.
        delayReason: reason === null || reason === text(event.data.status) ? 'carrier delay' : reason,
      },
      source(event),
    );
  },
};

/** `order.delivered` → `order_<id>_status`. */
export const orderDeliveredHandler: ReactionHandler = {
  name: 'relay/order-delivered',
  on: 'order.delivered',
  async handle(event, ctx) {
    const order = await orderOf(event, ctx);
    if (order === null) return 'skipped';
    const status = { status: 'delivered', deliveredAt: text(event.data.deliveredAt) ?? event.occurredAt };
    await ctx.memory.upsert(order.customerId, orderStatusKey(order.orderId), status, source(event));
  },
};
