import { describe, expect, it } from 'vitest';
import { nextUlid } from '../../../src/events/ulid.js';
import { DeliveryTracker, type DeliverySink } from '../../../src/observe/delivery-tracker.js';
import { manualClock } from '../../support/events.js';

function tracked(options: { deadlineMs?: number; maxTracked?: number } = {}) {
  const clock = manualClock();
  const seen = { processed: [] as [string, number][], acked: [] as [string, number][], due: [] as [string, boolean][], overflow: 0 };
  const sink: DeliverySink = {
    processed: (e, ms) => seen.processed.push([e.type, ms]),
    acked: (e, ms) => seen.acked.push([e.type, ms]),
    due: (e, dropped) => seen.due.push([e.type, dropped]),
    overflow: () => seen.overflow++,
  };
  const tracker = new DeliveryTracker({ deadlineMs: options.deadlineMs ?? 1000, maxTracked: options.maxTracked ?? 100, sink, now: clock.now });
  let last: string | null = null;
  const id = () => (last = nextUlid(last, clock.now()));
  return { tracker, clock, seen, id };
}

describe('DeliveryTracker', () => {
  it('counts an event processed at its first delivery, with the time since receipt, and once only', () => {
    const { tracker, clock, seen, id } = tracked();
    const a = id();
    tracker.accepted(a, 'stripe', 'payment.failed', clock.now());
    clock.advance(40);
    tracker.delivered(a);
    clock.advance(10);
    tracker.delivered(a);
    tracker.acked(a);
    tracker.acked(a);
    expect(seen.processed).toEqual([['payment.failed', 40]]);
    expect(seen.acked).toEqual([['payment.failed', 50]]);
  });

  it('counts an ack without a delivery it saw as processed', () => {
    const { tracker, clock, seen, id } = tracked();
    const a = id();
    tracker.accepted(a, 'stripe', 'payment.failed', clock.now());
    clock.advance(5);
    tracker.acked(a);
    expect(seen.processed).toEqual([['payment.failed', 5]]);
    expect(seen.acked).toEqual([['payment.failed', 5]]);
  });

  it('drops an event neither delivered nor acked by its deadline, and settles delivered ones as not dropped', () => {
    const { tracker, clock, seen, id } = tracked({ deadlineMs: 1000 });
    const a = id();
    const b = id();
    tracker.accepted(a, 'stripe', 'payment.failed', clock.now());
    tracker.accepted(b, 'shopify', 'order.delayed', clock.now());
    tracker.delivered(b);
    clock.advance(999);
    expect(tracker.sweep()).toBe(0);
    clock.advance(1);
    expect(tracker.sweep()).toBe(2);
    expect(seen.due).toEqual([['payment.failed', true], ['order.delayed', false]]);
    expect(tracker.size).toBe(0);
    tracker.delivered(a);
    expect(seen.processed).toEqual([['order.delayed', 0]]);
  });

  it('counts a push frame written before the append was reported (the log notifies followers inside the commit)', () => {
    const { tracker, clock, seen, id } = tracked();
    const a = id();
    tracker.delivered(a);
    clock.advance(3);
    tracker.accepted(a, 'stripe', 'payment.failed', clock.now() - 3);
    expect(seen.processed).toEqual([['payment.failed', 0]]);
  });

  it('does not hold deliveries of old events it never tracked', () => {
    const { tracker, clock, seen, id } = tracked();
    const old = id();
    clock.advance(60_000);
    tracker.delivered(old);
    tracker.accepted(old, 'stripe', 'payment.failed', clock.now());
    expect(seen.processed).toEqual([]);
  });

  it('stays bounded: beyond its cap it counts overflow instead of tracking', () => {
    const { tracker, clock, seen, id } = tracked({ maxTracked: 2 });
    for (let i = 0; i < 5; i++) tracker.accepted(id(), 'stripe', 'payment.failed', clock.now());
    expect(tracker.size).toBe(2);
    expect(seen.overflow).toBe(3);
  });
});
