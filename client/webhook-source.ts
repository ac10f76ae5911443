import type { Client } from '@modelcontextprotocol/client';
import { z } from 'zod';
import { customRequest, NO_TIMEOUT_MS } from './connection.js';
import type { EventSubscription } from './options.js';
import type { Source } from './source.js';
import { EventClientError } from './subscription-error.js';
import type { WebhookLink } from './webhook-link.js';

const subscribeResult = z.looseObject({
  id: z.string(),
  refreshBefore: z.string().nullable(),
  cursor: z.string().nullable().optional(),
  truncated: z.boolean().optional(),
  deliveryStatus: z.looseObject({
    active: z.boolean(),
    lastDeliveryAt: z.string().nullable(),
    lastError: z.string().nullable(),
    failedSince: z.string().optional(),
    throttled: z.boolean().optional(),
    retryAfterMs: z.number().optional(),
  }),
});

/** `events/subscribe` verifies the callback first, which the relay gives up to 15 s by default. */
const SUBSCRIBE_TIMEOUT_MS = 45_000;
/** A refresh comes at most this long before the grant ends… */
const REFRESH_MARGIN_MS = 5 * 60_000;
/** …and at least this long after the last one, whatever the clocks say. */
const MIN_REFRESH_DELAY_MS = 1_000;

/** How long until the next refresh: a fifth of the grant before it ends, at most {@link REFRESH_MARGIN_MS} early. */
function refreshDelay(refreshBefore: string | null, nowMs: number): number {
  if (refreshBefore === null) return NO_TIMEOUT_MS;
  const remaining = Date.parse(refreshBefore) - nowMs;
  const delay = remaining - Math.min(REFRESH_MARGIN_MS, remaining / 5);
  return Math.min(NO_TIMEOUT_MS, Math.max(MIN_REFRESH_DELAY_MS, Number.isFinite(delay) ? delay : 0));
}

/**
 * Webhook: `events/subscribe` with the callback URL and secret (a refresh when the
 * subscription exists: same key, new grant, reactivated if suspended), from the saved
 * cursor; then waits until the refresh is due and returns, so the caller subscribes again.
 * A gap the answer reports (a new subscription whose cursor is gone) is reported, and so is a
 * `deliveryStatus` that says deliveries are failing (`connection`, `callback_failing`). The
 * answer's cursor is saved when no event arrived meanwhile: a subscription from now gets
 * a resume point at once.
 */
export const webhookSource: Source = async (context) => {
  const { client, delivery, signal } = context;
  const link = context.webhook!;
  const requested = delivery.cursor;
  const answer = subscribeResult.parse(
    await customRequest(
      client,
      'events/subscribe',
      { ...context.target, delivery: { mode: 'webhook', url: link.callbackUrl, secret: link.secret }, cursor: requested },
      { signal, timeout: SUBSCRIBE_TIMEOUT_MS },
    ),
  );
  const { id, refreshBefore, deliveryStatus } = answer;
  link.state = { id, refreshBefore, deliveryStatus };
  context.established();
  await link.endpoint.serialize(async () => {
    if (answer.truncated) context.report({ kind: 'truncated', after: requested, resumedAt: answer.cursor ?? null });
    if (delivery.cursor === requested) await delivery.advance(answer.cursor);
  });
  const delayMs = refreshDelay(refreshBefore, Date.now());
  if (!deliveryStatus.active || deliveryStatus.failedSince !== undefined) {
    const why = `the relay's deliveries to ${link.callbackUrl} are ${deliveryStatus.active ? `failing since ${deliveryStatus.failedSince}` : 'inactive'} (${deliveryStatus.lastError ?? 'no error recorded'})`;
    context.report({ kind: 'connection', attempt: 1, delayMs, cause: new EventClientError('callback_failing', why, { cause: deliveryStatus }) });
  }
  await link.wait(delayMs, signal);
};

/** `events/unsubscribe`: the relay stops delivering at once. A subscription it no longer has (-32011) is already gone. */
export async function unsubscribeWebhook(client: Client, target: Required<EventSubscription>, link: WebhookLink): Promise<void> {
  try {
    await customRequest(client, 'events/unsubscribe', { ...target, delivery: { url: link.callbackUrl } }, { signal: AbortSignal.timeout(30_000), timeout: 30_000 });
  } catch (error) {
    if ((error as { code?: unknown }).code !== -32011) throw error;
  }
}
