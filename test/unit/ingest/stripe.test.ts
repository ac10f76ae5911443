import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { stripeProvider } from '../../../src/ingest/providers/stripe.js';
import { NOW, T, loadFixture, oracleSign, request } from '../../support/webhook-oracles.js';
import { describeVerifier } from './verifier-suite.js';

const secret = 'whsec_test_vector_secret_0001';
const oldSecret = 'whsec_test_vector_secret_0000';
const v1Body = loadFixture('payment_failed').rawBody;
const v1Header = 't=1700000000,v1=ff669442888969d620f75507c0cfe136f340bfde5da1358a7ee7c31411f123e0';
const rotationHeader = `${v1Header},v1=401efaca87f14414075d5f51f5667264186cde97a25bc61325b962da43ffdd03`;
const options = (secrets: string[], nowMs = NOW) => ({ secrets, nowMs, toleranceS: 300 });

describeVerifier({
  kind: 'stripe',
  name: 'Stripe',
  secret,
  previousSecret: oldSecret,
  body: v1Body,
  headers: {},
  signatureHeader: 'stripe-signature',
  withMac: (mac, signed) => (signed['stripe-signature'] ?? '').replace(/v1=[0-9a-f]{64}/, `v1=${mac}`),
  timestamped: true,
});

describe('Stripe verification specifics', () => {
  it('accepts the reference vector V1', () => {
    expect(stripeProvider.verify(request(v1Body, { 'stripe-signature': v1Header }), options([secret]))).toEqual({ ok: true });
  });

  it('accepts a rotation header with either secret alone', () => {
    for (const s of [secret, oldSecret]) {
      expect(stripeProvider.verify(request(v1Body, { 'stripe-signature': rotationHeader }), options([s]))).toEqual({ ok: true });
    }
  });

  it('rejects a future timestamp that the official library lets through', async () => {
    const headers = await oracleSign('stripe', v1Body, secret, T + 3_600_000);
    expect(() => Stripe.webhooks.constructEvent(v1Body, headers['stripe-signature'] ?? '', secret, 300, undefined, T)).not.toThrow();
    expect(stripeProvider.verify(request(v1Body, headers), options([secret], T))).toMatchObject({ reason: 'timestamp_out_of_tolerance' });
  });

  it('returns a rejection where the official library throws a bare RangeError (non-ASCII v1)', () => {
    const header = `t=1700000000,v1=é${'a'.repeat(63)}`;
    expect(() => Stripe.webhooks.constructEvent(v1Body, header, secret, 300, undefined, NOW)).toThrow(RangeError);
    expect(stripeProvider.verify(request(v1Body, { 'stripe-signature': header }), options([secret]))).toMatchObject({
      reason: 'malformed_signature',
    });
  });

  it('ignores v0 signatures even when they would match', () => {
    const header = v1Header.replace('v1=', 'v0=');
    expect(stripeProvider.verify(request(v1Body, { 'stripe-signature': header }), options([secret]))).toMatchObject({
      reason: 'missing_signature',
    });
  });

  it('accepts a header whose other v1 entries are garbage', () => {
    const header = `t=1700000000,v1=zz,v1=é,${v1Header.split(',')[1]}`;
    expect(stripeProvider.verify(request(v1Body, { 'stripe-signature': header }), options([secret]))).toEqual({ ok: true });
  });

  it('rejects upper-case hex, as Stripe only sends lower-case', () => {
    const header = v1Header.replace(/v1=(\w+)/, (_, mac: string) => `v1=${mac.toUpperCase()}`);
    expect(stripeProvider.verify(request(v1Body, { 'stripe-signature': header }), options([secret]))).toMatchObject({
      reason: 'malformed_signature',
    });
  });

  it.each([
    ['has no t= entry', 'v1=ff669442888969d620f75507c0cfe136f340bfde5da1358a7ee7c31411f123e0', 'missing_timestamp'],
    ['has a non-numeric t', v1Header.replace('t=1700000000', 't=soon'), 'malformed_timestamp'],
    ['has an exponent t', v1Header.replace('t=1700000000', 't=1.7e9'), 'malformed_timestamp'],
    ['has two t entries', `t=1,${v1Header}`, 'malformed_timestamp'],
    ['is bare commas', ',,,', 'missing_timestamp'],
  ])('rejects a Stripe-Signature that %s', (_label, header, reason) => {
    expect(stripeProvider.verify(request(v1Body, { 'stripe-signature': header }), options([secret]))).toMatchObject({ reason });
  });
});

describe('Stripe normalization', () => {
  const normalize = (body: unknown, source = 'stripe') => stripeProvider.normalize(source, body, request('', {}));
  const event = (type: string, object: Record<string, unknown>) => ({ id: 'evt_1', type, created: 1700000000, data: { object } });

  it('maps payment_intent.payment_failed to payment.failed with the failure details', () => {
    expect(normalize(loadFixture('payment_failed').body)).toEqual({
      ok: true,
      event: expect.objectContaining({
        source: 'stripe',
        type: 'payment.failed',
        sourceType: 'payment_intent.payment_failed',
        sourceEventId: 'evt_3OBvecTEST000001',
        subject: 'customer:cus_vecTEST0001',
        customerId: 'cus_vecTEST0001',
        occurredAt: '2023-11-14T22:13:20.000Z',
        data: {
          paymentId: 'pi_3OBvecTEST000001',
          invoiceId: null,
          customerId: 'cus_vecTEST0001',
          amount: 4999,
          currency: 'usd',
          failureCode: 'card_declined',
          declineCode: 'insufficient_funds',
          failureMessage: 'Your card has insufficient funds.',
        },
      }),
    });
  });

  it('maps invoice.payment_failed to payment.failed with the amount due', () => {
    const body = event('invoice.payment_failed', { id: 'in_1', object: 'invoice', customer: 'cus_2', amount_due: 1200, currency: 'eur' });
    expect(normalize(body)).toMatchObject({
      event: { type: 'payment.failed', customerId: 'cus_2', data: { invoiceId: 'in_1', amount: 1200, failureCode: null } },
    });
  });

  it.each(['invoice.paid', 'invoice.payment_succeeded'])('maps %s to payment.succeeded with the amount paid', (type) => {
    const body = event(type, { id: 'in_1', object: 'invoice', customer: { id: 'cus_3', object: 'customer' }, amount_paid: 900 });
    expect(normalize(body)).toMatchObject({
      event: { type: 'payment.succeeded', subject: 'customer:cus_3', data: { invoiceId: 'in_1', amount: 900 } },
    });
  });

  it('maps payment_intent.succeeded to payment.succeeded', () => {
    expect(normalize(loadFixture('payment_succeeded').body)).toMatchObject({
      event: { type: 'payment.succeeded', customerId: 'cus_vecTEST0001', data: { paymentId: 'pi_3OBvecTEST000002', amount: 4999 } },
    });
  });

  it('maps charge.refunded to refund.updated with the running refunded total', () => {
    expect(normalize(loadFixture('refund').body)).toMatchObject({
      event: {
        type: 'refund.updated',
        subject: 'customer:cus_vecTEST0001',
        data: { chargeId: 'ch_3OBvecTEST000002', paymentId: 'pi_3OBvecTEST000002', amount: 1500, fullyRefunded: false },
      },
    });
  });

  it.each(['refund.created', 'refund.updated', 'charge.refund.updated'])('maps %s to refund.updated', (type) => {
    const refund = { id: 're_1', object: 'refund', amount: 500, charge: 'ch_1', currency: 'usd', status: 'succeeded', reason: 'requested_by_customer' };
    expect(normalize(event(type, refund))).toMatchObject({
      event: {
        type: 'refund.updated',
        subject: 'refund:re_1',
        data: { refundId: 're_1', chargeId: 'ch_1', amount: 500, status: 'succeeded', reason: 'requested_by_customer' },
      },
    });
  });

  it('maps charge.dispute.created to dispute.opened with the evidence deadline', () => {
    const dispute = { id: 'dp_1', object: 'dispute', charge: 'ch_1', amount: 4999, currency: 'usd', reason: 'fraudulent', status: 'needs_response', evidence_details: { due_by: 1700604800 } };
    expect(normalize(event('charge.dispute.created', dispute))).toMatchObject({
      event: {
        type: 'dispute.opened',
        subject: 'dispute:dp_1',
        data: { disputeId: 'dp_1', chargeId: 'ch_1', reason: 'fraudulent', evidenceDueBy: '2023-11-21T22:13:20.000Z' },
      },
    });
  });

  it('keeps an unmapped type as <source>.<type>, with the customer still extracted', () => {
    const body = event('customer.created', { id: 'cus_9', object: 'customer' });
    expect(normalize(body, 'stripe-eu')).toMatchObject({
      event: { source: 'stripe-eu', type: 'stripe-eu.customer.created', subject: 'customer:cus_9', customerId: 'cus_9', data: {} },
    });
  });

  it('treats a type named like an Object.prototype member as just another unmapped type', () => {
    expect(normalize({ id: 'evt_1', type: 'constructor' })).toMatchObject({ event: { type: 'stripe.constructor', data: {} } });
  });

  it.each([
    ['has no id', { type: 'charge.refunded' }, 'missing_event_id'],
    ['is not an object', [1, 2, 3], 'missing_event_id'],
    ['has an object as id', { id: { a: 1 }, type: 'x' }, 'invalid_event_id'],
    ['has no type', { id: 'evt_1' }, 'missing_event_type'],
    ['has an overlong type', { id: 'evt_1', type: 'x'.repeat(129) }, 'invalid_event_type'],
  ])('refuses an event that %s', (_label, body, reason) => {
    expect(normalize(body)).toMatchObject({ ok: false, status: 400, reason });
  });
});
