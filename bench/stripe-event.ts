import { randomBytes } from 'node:crypto';
import type { NewEvent } from '../src/events/event.js';

/**
 * Realistic log input: a Stripe `payment_intent.payment_failed` delivery as the relay stores
 * it, ~1 KB once serialized. Every call builds a fresh object with fresh upstream ids, as
 * parsing a real webhook body would; field values vary so rows do not compress to nothing.
 */

const run = randomBytes(4).toString('hex');
let counter = 0;

const declines = [
  ['insufficient_funds', 'Your card has insufficient funds.'],
  ['generic_decline', 'Your card was declined.'],
  ['expired_card', 'Your card has expired.'],
  ['incorrect_cvc', "Your card's security code is incorrect."],
] as const;
const brands = ['visa', 'mastercard', 'amex'] as const;

function token(prefix: string, n: number): string {
  return `${prefix}_${run}${n.toString(36).padStart(8, '0')}`;
}

export function stripePaymentFailed(): NewEvent {
  const n = ++counter;
  const customer = `cus_${run}${(n % 997).toString(36).padStart(4, '0')}`;
  const [declineCode, message] = declines[n % declines.length]!;
  const created = 1_764_000_000 + n;
  const amount = 500 + ((n * 7919) % 99_500);
  const intent = token('pi', n);
  const eventId = token('evt', n);
  return {
    source: 'stripe',
    type: 'payment.failed',
    sourceType: 'payment_intent.payment_failed',
    sourceEventId: eventId,
    subject: `customer:${customer}`,
    customerId: customer,
    data: { paymentIntentId: intent, amount, currency: 'usd', declineCode, attempt: 1 + (n % 3) },
    raw: {
      id: eventId,
      object: 'event',
      api_version: '2025-10-29',
      created,
      livemode: false,
      pending_webhooks: 1,
      request: { id: token('req', n), idempotency_key: null },
      type: 'payment_intent.payment_failed',
      data: {
        object: {
          id: intent,
          object: 'payment_intent',
          amount,
          amount_received: 0,
          currency: 'usd',
          customer,
          status: 'requires_payment_method',
          created: created - 2,
          metadata: { order_id: `ord_${n}` },
          last_payment_error: {
            type: 'card_error',
            code: 'card_declined',
            decline_code: declineCode,
            message,
            payment_method: {
              id: token('pm', n),
              type: 'card',
              card: { brand: brands[n % brands.length], last4: String(1000 + (n % 9000)), exp_month: 1 + (n % 12), exp_year: 2027 },
            },
          },
        },
      },
    },
  };
}
