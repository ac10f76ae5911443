import { afterEach, describe, expect, it } from 'vitest';
import { suggestedAction } from '../../../src/reactions/handlers/failure-classes.js';
import { ReactionRunner } from '../../../src/reactions/runner.js';
import { builtInHandlers } from '../../../src/reactions/built-in-handlers.js';
import { reactionsHarness, upstream } from './harness.js';

describe('payment reactions', () => {
  let h = reactionsHarness();
  afterEach(async () => {
    await h.close();
    h = reactionsHarness();
  });

  it.each([
    ['card_declined', null, 'update_payment_method'],
    ['card_declined', 'insufficient_funds', 'update_payment_method'],
    ['expired_card', null, 'update_payment_method'],
    ['incorrect_cvc', null, 'update_payment_method'],
    ['incorrect_number', null, 'update_payment_method'],
    ['bank_account_restricted', null, 'contact_bank'],
    ['debit_not_authorized', null, 'contact_bank'],
    ['card_declined', 'do_not_honor', 'contact_bank'],
    ['processing_error', null, 'retry_later'],
    [null, null, 'retry_later'],
  ])('classifies failure %s (decline %s) as %s', async (failureCode, declineCode, action) => {
    expect(suggestedAction(failureCode, declineCode)).toBe(action);
    await h.deliver(upstream('payment.failed', { failureCode, declineCode, customerId: 'cus_1' }));
    expect((await h.memory.get('cus_1')).facts.payment_status?.value).toMatchObject({ failed: true, failureCode, suggestedAction: action });
  });

  it('stores payment_status and requests high-priority outreach retried 15 minutes after the failure', async () => {
    const [cause] = await h.deliver(upstream('payment.failed', { failureCode: 'card_declined', amount: 4999, currency: 'usd', paymentId: 'pi_1' }));
    expect((await h.memory.get('cus_1')).facts.payment_status?.value).toEqual({
      failed: true,
      failureCode: 'card_declined',
      declineCode: null,
      failedAt: '2026-01-01T12:00:00.000Z',
      suggestedAction: 'update_payment_method',
    });
    const [outreach, ...more] = await h.derived('outreach.requested');
    expect(more).toEqual([]);
    expect(outreach).toMatchObject({
      source: 'relay',
      sourceEventId: `${cause!.id}:relay/payment-failed`,
      customerId: 'cus_1',
      data: { causeId: cause!.id, priority: 'high', suggestedAction: 'update_payment_method', amount: 4999, retryAfter: '2026-01-01T12:15:00.000Z' },
    });
  });

  it('clears the failed state when a later payment succeeds', async () => {
    await h.deliver(upstream('payment.failed', { failureCode: 'card_declined' }));
    await h.deliver(upstream('payment.succeeded', {}, { occurredAt: '2026-01-01T12:05:00.000Z' }));
    expect((await h.memory.get('cus_1')).facts.payment_status?.value).toMatchObject({ failed: false, suggestedAction: null });
  });

  it('ignores a failure that arrives after a later success, without outreach', async () => {
    await h.deliver(upstream('payment.succeeded', {}, { occurredAt: '2026-01-01T12:05:00.000Z' }));
    await h.deliver(upstream('payment.failed', { failureCode: 'card_declined' }));
    expect((await h.memory.get('cus_1')).facts.payment_status?.value).toMatchObject({ failed: false });
    expect(await h.derived()).toEqual([]);
  });

  it('changes nothing and appends nothing when the log is replayed through the reactions', async () => {
    await h.deliver(upstream('payment.failed', { failureCode: 'card_declined' }));
    const before = await h.memory.get('cus_1');
    const replay = new ReactionRunner({ log: h.log, memory: h.memory, handlers: builtInHandlers(), publicUrl: 'https://x', group: 'replay' });
    await replay.drain();
    await replay.stop();
    expect(await h.memory.get('cus_1')).toEqual(before);
    expect(await h.derived()).toHaveLength(1);
    expect(await h.memory.history('cus_1', 'payment_status')).toHaveLength(1);
  });

  it('skips a failure that names no customer', async () => {
    const runs: string[] = [];
    h.runner.recorder.onRun((run) => runs.push(`${run.handler}:${run.outcome}`));
    await h.deliver(upstream('payment.failed', { failureCode: 'card_declined' }, { customerId: undefined, subject: undefined }));
    expect(runs).toEqual(['relay/payment-failed:skipped']);
    expect(await h.derived()).toEqual([]);
  });
});
