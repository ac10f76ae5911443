import { afterEach, describe, expect, it } from 'vitest';
import { loadHandlerModules } from '../../../src/reactions/load-handlers.js';
import type { ReactionHandler } from '../../../src/reactions/handler.js';
import { until } from '../../contract/log-factory.js';
import { reactionsHarness, upstream } from './harness.js';

describe('ReactionRunner', () => {
  const open: ReturnType<typeof reactionsHarness>[] = [];
  const harness = (options: Parameters<typeof reactionsHarness>[0]) => {
    const h = reactionsHarness(options);
    open.push(h);
    return h;
  };
  afterEach(async () => {
    await Promise.all(open.splice(0).map((h) => h.close()));
  });

  it('retries a throwing handler when its lease ends and dead-letters it after maxDeliveries', async () => {
    let calls = 0;
    const flaky: ReactionHandler = {
      name: 'test/always-fails',
      on: 'payment.*',
      handle() {
        calls++;
        throw new Error('downstream unavailable');
      },
    };
    const h = harness({ handlers: [flaky], leaseMs: 1000, maxDeliveries: 2 });
    await h.runner.start();
    const [cause] = await h.log.append([upstream('payment.failed', {})]);
    await until(() => calls === 2, 10_000);
    let dead: Awaited<ReturnType<typeof h.log.deadLetters>> = [];
    await until(() => {
      void h.log.deadLetters(h.runner.group).then((d) => (dead = d));
      return dead.length === 1;
    }, 10_000);
    expect(dead[0]?.event.id).toBe(cause!.id);
    expect(dead[0]?.deliveryCount).toBe(2);
    expect(calls).toBe(2);
    expect(h.runner.recorder.totals()).toEqual([{ handler: 'test/always-fails', outcome: 'failed', count: 2, totalMs: expect.any(Number) }]);
  });

  it('acks events no handler matches, so the group moves on', async () => {
    const h = harness({});
    await h.deliver(upstream('github.push', {}, { source: 'github' }));
    expect(await h.log.pending(h.runner.group)).toMatchObject({ pending: 0, deadLettered: 0 });
  });

  it('reacts to appends once started, without being drained', async () => {
    const h = harness({});
    await h.runner.start();
    await h.log.append(upstream('payment.failed', { failureCode: 'expired_card' }));
    let outreach = 0;
    await until(() => {
      void h.derived('outreach.requested').then((e) => (outreach = e.length));
      return outreach === 1;
    });
  });

  it('runs user handlers loaded from a module (examples/handlers/refund-notes.js)', async () => {
    const handlers = await loadHandlerModules(['examples/handlers/refund-notes.js']);
    const h = harness({ handlers });
    await h.deliver(upstream('refund.updated', { refundId: 're_1', amount: 500, currency: 'usd', status: 'succeeded' }));
    expect((await h.memory.get('cus_1')).facts.refund_re_1?.value).toEqual({ amount: 500, currency: 'usd', status: 'succeeded' });
  });

  it('refuses handler modules that export no handlers', async () => {
    await expect(loadHandlerModules(['test/unit/reactions/harness.ts'])).rejects.toThrow(/must export "handlers"/);
  });
});
