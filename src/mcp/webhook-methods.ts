import type { McpServer, ServerContext } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { SubscriptionRefusal } from '../outbound/subscriptions.js';
import { declaresEvents } from './client-capabilities.js';
import { filterFor } from './event-types.js';
import type { RelayContext } from './relay-context.js';
import { callbackEndpointError, forbiddenUnauthenticated, invalidParams, limitReached, limitReachedData, missingEventsCapability, subscriptionNotFound, unsupportedDeliveryMode } from './wire-errors.js';

const nameSchema = z.string().min(1).max(200);
const argumentsSchema = z.record(z.string(), z.unknown()).optional();
const urlSchema = z.string().min(1).max(2048);

export const subscribeParamsSchema = z
  .object({
    name: nameSchema,
    arguments: argumentsSchema,
    delivery: z.object({ mode: z.string().max(32), url: urlSchema, secret: z.string().max(200) }).passthrough(),
    cursor: z.string().max(64).nullable().default(null),
    maxAgeMs: z.number().int().min(1).optional(),
    ttlMs: z.number().int().min(0).nullable().optional(),
  })
  .passthrough();

export const unsubscribeParamsSchema = z
  .object({ name: nameSchema, arguments: argumentsSchema, delivery: z.object({ url: urlSchema }).passthrough() })
  .passthrough();

/**
 * `events/subscribe` and `events/unsubscribe` (Events draft, webhook delivery), for clients
 * that declared `events` and run as an authenticated principal (an open relay has none:
 * -32012). The work is `context.webhooks`'; this maps params and refusals onto the wire.
 */
export function registerWebhookMethods(
  server: McpServer,
  session: { era: 'legacy' | 'modern'; principal: string; clientCapabilities(ctx: ServerContext): Record<string, unknown> | undefined },
  context: RelayContext,
): void {
  const admit = (ctx: ServerContext) => {
    if (!declaresEvents(session.clientCapabilities(ctx))) throw missingEventsCapability(session.era);
    if (context.openAccess) throw forbiddenUnauthenticated();
  };

  server.server.setRequestHandler('events/subscribe', { params: z.unknown() }, async (raw, ctx) => {
    admit(ctx);
    const parsed = subscribeParamsSchema.safeParse(raw);
    if (!parsed.success) throw invalidParams(`invalid events/subscribe params: ${z.prettifyError(parsed.error)}`);
    const params = parsed.data;
    const filter = filterFor(params.name, params.arguments);
    if (params.delivery.mode !== 'webhook') throw unsupportedDeliveryMode(params.delivery.mode);
    // A subscribe may verify an endpoint (an outbound request of up to twice the callback
    // timeout): a principal holds only a few at once, so it cannot make the relay call out in bulk.
    const slot = context.subscribing.take(session.principal);
    if (!slot.ok) throw limitReached(slot.refusal);
    const result = await refusalsOnTheWire(() =>
      context.webhooks.subscribe({
        principal: session.principal,
        name: params.name,
        arguments: params.arguments ?? {},
        filter,
        url: params.delivery.url,
        secret: params.delivery.secret,
        cursor: params.cursor,
        ...(params.maxAgeMs === undefined ? {} : { maxAgeMs: params.maxAgeMs }),
        ...(params.ttlMs === undefined ? {} : { ttlMs: params.ttlMs }),
      }),
    ).finally(slot.release);
    return { ...result };
  });

  server.server.setRequestHandler('events/unsubscribe', { params: z.unknown() }, async (raw, ctx) => {
    admit(ctx);
    const parsed = unsubscribeParamsSchema.safeParse(raw);
    if (!parsed.success) throw invalidParams(`invalid events/unsubscribe params: ${z.prettifyError(parsed.error)}`);
    const { name, delivery } = parsed.data;
    filterFor(name, parsed.data.arguments);
    await refusalsOnTheWire(() => context.webhooks.unsubscribe(session.principal, name, parsed.data.arguments ?? {}, delivery.url));
    return {};
  });
}

async function refusalsOnTheWire<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof SubscriptionRefusal)) throw error;
    switch (error.kind) {
      case 'invalid':
        throw invalidParams(error.message, Object.keys(error.data).length > 0 ? error.data : undefined);
      case 'callback':
        throw callbackEndpointError(error.message, error.data);
      case 'quota':
      case 'verification_rate':
        throw limitReachedData(error.message, error.data);
      case 'not_found':
        throw subscriptionNotFound(error.message);
    }
  }
}
