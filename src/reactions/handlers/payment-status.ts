import type { ReactionHandler } from '../handler.js';
import { number, text } from '../payload.js';
import { suggestedAction } from './failure-classes.js';

export const PAYMENT_STATUS = 'payment_status';

/** How long outreach waits before suggesting the customer retries. */
const RETRY_AFTER_MS = 15 * 60_000;

/** `payment.failed` → `payment_status` with the suggested action; `outreach.requested` (high). */
export const paymentFailedHandler: ReactionHandler = {
  name: 'relay/payment-failed',
  on: 'payment.failed',
  async handle(event, ctx) {
    const customerId = event.customerId ?? text(event.data.customerId);
    if (customerId === null) return 'skipped';
    const failureCode = text(event.data.failureCode);
    const declineCode = text(event.data.declineCode);
    const failedAt = event.occurredAt;
    const status = { failed: true, failureCode, declineCode, failedAt, suggestedAction: suggestedAction(failureCode, declineCode) };
    const outcome = await ctx.memory.upsert(customerId, PAYMENT_STATUS, status, { eventId: event.id, occurredAt: event.occurredAt });
    // A failure older than a later success needs no outreach.
    if (outcome === 'stale') return;
    await ctx.emit(
      'outreach.requested',
      {
        reason: 'payment_failed',
        priority: 'high',
        suggestedAction: status.suggestedAction,
        failureCode,
        declineCode,
        paymentId: text(event.data.paymentId),
        invoiceId: text(event.data.invoiceId),
        amount: number(event.data.amount),
        currency: text(event.data.currency),
        failedAt,
        retryAfter: new Date(Date.parse(failedAt) + RETRY_AFTER_MS).toISOString(),
      },
      { customerId },
    );
  },
};

/**
 * `payment.succeeded` → `payment_status` no longer failed. Written even when no failure is
 * known yet, so a failure that happened earlier but arrives later cannot bring it back.
 */
export const paymentSucceededHandler: ReactionHandler = {
  name: 'relay/payment-succeeded',
  on: 'payment.succeeded',
  async handle(event, ctx) {
    const customerId = event.customerId ?? text(event.data.customerId);
    if (customerId === null) return 'skipped';
    await ctx.memory.upsert(
      customerId,
      PAYMENT_STATUS,
      { failed: false, failureCode: null, declineCode: null, failedAt: null, suggestedAction: null, succeededAt: event.occurredAt },
      { eventId: event.id, occurredAt: event.occurredAt },
    );
  },
};
