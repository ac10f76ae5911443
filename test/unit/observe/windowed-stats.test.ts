import { describe, expect, it } from 'vitest';
import { WindowedStats } from '../../../src/observe/windowed-stats.js';

const T = Date.UTC(2026, 10, 26, 12);

describe('WindowedStats', () => {
  it('sums webhook outcomes per source and reason over the window', () => {
    const stats = new WindowedStats();
    stats.webhook('stripe', 'accepted', T);
    stats.webhook('stripe', 'duplicate', T + 1000);
    stats.webhook('stripe', 'signature_mismatch', T + 2000);
    stats.webhook('_unknown', 'unknown_source', T + 3000);
    const summary = stats.summary(3_600_000, T + 5000);
    expect(summary).toMatchObject({ accepted: 1, duplicate: 1, rejected: 2 });
    expect(summary.bySource).toEqual({
      stripe: { accepted: 1, duplicate: 1, rejected: 1, rejectedByReason: { signature_mismatch: 1 } },
      _unknown: { accepted: 0, duplicate: 0, rejected: 1, rejectedByReason: { unknown_source: 1 } },
    });
  });

  it('leaves out what happened before the window, and forgets buckets older than a ring keeps', () => {
    const stats = new WindowedStats();
    stats.webhook('stripe', 'accepted', T);
    expect(stats.summary(900_000, T + 899_000).accepted).toBe(1);
    expect(stats.summary(900_000, T + 911_000).accepted).toBe(0);
    expect(stats.summary(86_400_000, T + 911_000).accepted).toBe(1);
    // An hour on, the current 10 s bucket has the slot T's bucket had: a stale slot reads empty.
    expect(stats.summary(3_600_000, T + 3_600_000).accepted).toBe(0);
    stats.webhook('github', 'accepted', T + 3_600_000);
    expect(stats.summary(3_600_000, T + 3_600_000).bySource).toEqual({ github: { accepted: 1, duplicate: 0, rejected: 0, rejectedByReason: {} } });
  });

  it('reads a window from the finest ring that covers it, one point per bucket, the last one partial', () => {
    const stats = new WindowedStats();
    stats.webhook('stripe', 'accepted', T + 15_000);
    stats.latency('delivery', 120, T + 15_000);
    const summary = stats.summary(60_000, T + 25_000);
    expect(summary.bucketS).toBe(10);
    expect(summary.points.map((p) => p.t)).toEqual([-30, -20, -10, 0, 10, 20].map((s) => new Date(T + s * 1000).toISOString()));
    expect(summary.points.map((p) => p.accepted)).toEqual([0, 0, 0, 0, 1, 0]);
    expect(summary.points[4]).toMatchObject({ bySource: { stripe: 1 }, deliveryP50: 128, deliveryP95: 128, processingP99: null });
    expect(stats.summary(3_600_001, T).bucketS).toBe(60);
    expect(stats.summary(86_400_001, T).bucketS).toBe(3600);
  });

  it('computes the drop rate from events that came due, with the offenders most-dropped first', () => {
    const stats = new WindowedStats();
    stats.due('stripe', 'payment.failed', true, T);
    stats.due('stripe', 'payment.failed', true, T + 10);
    stats.due('shopify', 'order.delayed', true, T + 20);
    stats.due('shopify', 'order.delayed', false, T + 30);
    expect(stats.dropWindow(3_600_000, T + 1000)).toEqual({
      due: 4,
      dropped: 3,
      offenders: [
        { source: 'stripe', type: 'payment.failed', dropped: 2 },
        { source: 'shopify', type: 'order.delayed', dropped: 1 },
      ],
    });
    expect(stats.summary(3_600_000, T + 1000)).toMatchObject({ due: 4, dropped: 3 });
  });

  it('counts reaction outcomes per handler and merges latency bins across buckets', () => {
    const stats = new WindowedStats();
    stats.reaction('relay/payment-failed', 'succeeded', T);
    stats.reaction('relay/payment-failed', 'failed', T + 60_000);
    stats.reaction('mine', 'skipped', T);
    stats.latency('processing', 10, T);
    stats.latency('processing', 1000, T + 60_000);
    const summary = stats.summary(3_600_000, T + 61_000);
    expect(summary.reactions).toEqual({ 'relay/payment-failed': { succeeded: 1, failed: 1, skipped: 0 }, mine: { succeeded: 0, failed: 0, skipped: 1 } });
    expect(summary.latency.processing.count).toBe(2);
    expect(summary.latency.ack.count).toBe(0);
  });
});
