// A user reaction, loaded with RELAY_HANDLERS=examples/handlers/refund-notes.js.
// Handlers must be idempotent by event id: write memory through ctx.memory (a replay is a
// no-op) and derived events through ctx.emit (deduplicated by the log).

/** @type {import('../../src/reactions/handler.js').ReactionHandler[]} */
export const handlers = [
  {
    name: 'example/refund-notes',
    on: 'refund.*',
    async handle(event, ctx) {
      const customerId = event.customerId;
      const refundId = event.data.refundId ?? event.data.chargeId;
      if (!customerId || !refundId) return 'skipped';
      await ctx.memory.upsert(
        customerId,
        `refund_${refundId}`,
        { amount: event.data.amount ?? null, currency: event.data.currency ?? null, status: event.data.status ?? 'refunded' },
        { eventId: event.id, occurredAt: event.occurredAt },
      );
    },
  },
];
