import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryEventLog } from '../../../src/log/memory/event-log.js';
import { createLogger } from '../../../src/observe/logger.js';
import { parseEgressAllow } from '../../../src/outbound/address-policy.js';
import type { AttemptResult } from '../../../src/outbound/callback-post.js';
import { CallbackDispatcher } from '../../../src/outbound/dispatcher.js';
import { MemorySubscriptionStore } from '../../../src/outbound/memory/subscription-store.js';
import type { WebhookSubscription } from '../../../src/outbound/subscription-store.js';
import { LOG_START } from '../../../src/events/ulid.js';
import { subscription as storedSubscription } from '../../contract/subscription-store-contract.js';
import { CallbackReceiver } from '../../support/callback-receiver.js';
import { eventually } from '../../support/mcp-clients.js';
import { newEvent } from '../../support/events.js';

/** Dispatchers over one memory log and store, delivering to a loopback receiver; the clock is the test's. */
function harness(receiver: CallbackReceiver, delaysMs: number[] = [10, 10]) {
  const log = new MemoryEventLog();
  const store = new MemorySubscriptionStore();
  let now = Date.now();
  const ended: string[] = [];
  const attempts: AttemptResult[] = [];
  const dispatcher = () =>
    new CallbackDispatcher({
      store,
      log,
      target: { policy: parseEgressAllow('loopback'), self: [] },
      retry: { delaysMs, jitter: 0, suspendAfterMs: 3_600_000 },
      filterOf: (s) => JSON.parse(s.arguments),
      suspensionError: (reason) => ({ code: -32015, message: 'suspended', data: { reason } }),
      observer: { attempt: (r) => attempts.push(r), delivered: () => {}, abandoned: () => {}, ended: (reason) => ended.push(reason) },
      logger: createLogger('silent'),
      leaseMs: 3000,
      scanMs: 20,
      now: () => now,
    });
  const subscription = (overrides: Partial<WebhookSubscription> = {}): WebhookSubscription =>
    storedSubscription('sub_0123456789abcdef0123456789abcdef', {
      url: receiver.url,
      name: 'cx_events',
      arguments: '{}',
      createdAt: now,
      secrets: [{ secret: receiver.secret, until: null }],
      verifiedAt: now,
      cursor: LOG_START,
      ...overrides,
    });
  return { log, store, dispatcher, subscription, ended, attempts, advance: (ms: number) => (now += ms), now: () => now };
}

describe('CallbackDispatcher', () => {
  let receiver: CallbackReceiver;
  const open: CallbackDispatcher[] = [];
  beforeEach(async () => {
    receiver = await new CallbackReceiver().start();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((d) => d.close()));
    await receiver.stop();
  });
  const started = (d: CallbackDispatcher) => {
    open.push(d);
    d.start();
    return d;
  };

  it('removes an expired subscription and delivers nothing after its grant', async () => {
    const h = harness(receiver);
    await h.store.upsert(h.subscription({ expiresAt: h.now() + 1000 }), {});
    started(h.dispatcher());
    const first = (await h.log.append(newEvent())).id;
    await receiver.deliveries.until(() => receiver.accepted().includes(first), 'delivery within the grant');
    h.advance(2000);
    await eventually(async () => ((await h.store.get(h.subscription().id)) === undefined ? true : undefined), 'the expired subscription removed');
    expect(h.ended).toEqual(['expired']);
    await h.log.append(newEvent());
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(receiver.accepted()).toEqual([first]);
  });

  it('lets one dispatcher deliver at a time and hands over when it closes', async () => {
    const h = harness(receiver);
    await h.store.upsert(h.subscription(), {});
    const a = started(h.dispatcher());
    await eventually(async () => (a.running === 1 ? true : undefined), 'the first dispatcher claims it');
    const b = started(h.dispatcher());
    const before = (await h.log.append(newEvent())).id;
    await receiver.deliveries.until(() => receiver.accepted().includes(before), 'delivery by the first');
    expect(b.running).toBe(0);
    await a.close();
    open.splice(open.indexOf(a), 1);
    await eventually(async () => (b.running === 1 ? true : undefined), 'the second takes over');
    const after = (await h.log.append(newEvent())).id;
    await receiver.deliveries.until(() => receiver.accepted().includes(after), 'delivery by the second');
    expect(receiver.accepted()).toEqual([before, after]);
  });

  it('moves a filtered subscription\'s stored cursor up to the head in a quiet period', async () => {
    const h = harness(receiver);
    await h.store.upsert(h.subscription({ arguments: JSON.stringify({ types: ['order.shipped'] }) }), {});
    started(h.dispatcher());
    await h.log.append([newEvent(), newEvent(), newEvent()]);
    const head = await h.log.head();
    h.advance(5000);
    await eventually(async () => ((await h.store.get(h.subscription().id))?.cursor === head ? true : undefined), 'the watermark at the head');
    expect(receiver.accepted()).toEqual([]);
  });

  it('continues the attempt count a previous process stored for the event in flight', async () => {
    const h = harness(receiver, [10, 10]);
    const poisoned = (await h.log.append(newEvent())).id;
    await h.store.upsert(h.subscription({ inFlight: { eventId: poisoned, attempts: 2, firstAttemptAt: h.now(), nextAttemptAt: h.now() } }), {});
    receiver.script = ({ body }) => (body.eventId === poisoned ? 500 : 200);
    started(h.dispatcher());
    await receiver.deliveries.until(() => receiver.controls('gap').length === 1, 'the abandonment');
    expect(receiver.deliveries.items.filter((d) => d.body.eventId === poisoned)).toHaveLength(1);
    // The watermark passes the abandoned event only once the gap envelope was answered.
    await eventually(async () => ((await h.store.get(h.subscription().id))?.cursor === poisoned ? true : undefined), 'the watermark past the abandoned event');
  });
});
