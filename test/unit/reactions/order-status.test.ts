import { afterEach, describe, expect, it } from 'vitest';
import { reactionsHarness, upstream } from './harness.js';

const shipped = (extra = {}) =>
  upstream('order.shipped', { orderId: '1001', trackingNumber: '1Z999', carrier: 'UPS', trackingUrl: 'https://ups.example/1Z999' }, { source: 'shopify', ...extra });

describe('order reactions', () => {
  let h = reactionsHarness();
  afterEach(async () => {
    await h.close();
    h = reactionsHarness();
  });

  const optIn = (value: boolean) => h.memory.upsert('cus_1', 'notifications_opt_in', value, { eventId: 'consent', occurredAt: '2025-12-01T00:00:00Z' });

  it('records a shipped order and notifies a customer who opted in', async () => {
    await optIn(true);
    const [cause] = await h.deliver(shipped());
    expect((await h.memory.get('cus_1')).facts.order_1001_status?.value).toEqual({ status: 'shipped', trackingNumber: '1Z999', carrier: 'UPS' });
    const notifications = await h.derived('notification.requested');
    expect(notifications).toHaveLength(1);
    expect(notifications[0]).toMatchObject({ customerId: 'cus_1', data: { causeId: cause!.id, orderId: '1001', status: 'shipped', carrier: 'UPS' } });
  });

  it('does not notify a customer who opted out or never opted in', async () => {
    await h.deliver(shipped());
    await optIn(false);
    await h.deliver(shipped({ occurredAt: '2026-01-01T12:01:00.000Z' }));
    expect(await h.derived()).toEqual([]);
  });

  it('keeps delivered when shipped arrives late, and sends no stale notification', async () => {
    await optIn(true);
    await h.deliver(upstream('order.delivered', { orderId: '1001', deliveredAt: '2026-01-03T10:00:00.000Z' }, { occurredAt: '2026-01-03T10:00:00.000Z' }));
    await h.deliver(shipped());
    expect((await h.memory.get('cus_1')).facts.order_1001_status?.value).toEqual({ status: 'delivered', deliveredAt: '2026-01-03T10:00:00.000Z' });
    expect(await h.derived()).toEqual([]);
  });

  it('finds the customer of a fulfillment through order.created', async () => {
    await h.deliver(upstream('order.created', { orderId: '1001', customerId: 'cus_1' }, { occurredAt: '2026-01-01T11:00:00.000Z' }));
    await h.deliver(shipped({ customerId: undefined, subject: 'order:1001' }));
    expect((await h.memory.get('cus_1')).facts.order_1001_status?.value).toMatchObject({ status: 'shipped' });
  });

  it('records a delay with the estimate it replaces and the default reason', async () => {
    await h.deliver(upstream('order.delayed', { orderId: '1001', status: 'delayed', originalEstimate: null, newEstimate: '2026-01-05T18:00:00.000Z', delayReason: 'delayed' }));
    await h.deliver(
      upstream('order.delayed', { orderId: '1001', status: 'delayed', newEstimate: '2026-01-07T18:00:00.000Z', delayReason: 'Weather delay' }, { occurredAt: '2026-01-02T12:00:00.000Z' }),
    );
    const history = await h.memory.history('cus_1', 'order_1001_status');
    expect(history.map((r) => r.value)).toEqual([
      { status: 'delayed', originalDelivery: null, newEstimate: '2026-01-05T18:00:00.000Z', delayReason: 'carrier delay' },
      { status: 'delayed', originalDelivery: '2026-01-05T18:00:00.000Z', newEstimate: '2026-01-07T18:00:00.000Z', delayReason: 'Weather delay' },
    ]);
  });
});
