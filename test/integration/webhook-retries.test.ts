import { afterEach, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/app.js';
import { CallbackReceiver } from '../support/callback-receiver.js';
import { eventually, ingest, keys, startMcpRelay } from '../support/mcp-clients.js';
import { scrape } from '../support/observed-relay.js';
import { rpc, subscribeTo } from '../support/webhook-rpc.js';

const isEvent = (body: Record<string, any>) => body.type === undefined;

describe('webhook delivery through failures', () => {
  let relay: Relay | undefined;
  const receivers: CallbackReceiver[] = [];
  const start = async (env: Record<string, string>) => {
    relay = await startMcpRelay({ RELAY_WEBHOOK_ALLOW: 'loopback', ...env });
    const receiver = await new CallbackReceiver().start();
    receivers.push(receiver);
    return { relay, receiver };
  };
  afterEach(async () => {
    await relay?.close();
    await Promise.all(receivers.splice(0).map((r) => r.stop()));
  });

  it('a receiver down for a while, then up: everything arrives, in order, once after dedup', async () => {
    const { relay, receiver } = await start({ RELAY_WEBHOOK_RETRY: '100ms,200ms,400ms,800ms,1600ms,3s' });
    await subscribeTo(relay, receiver);
    const port = receiver.port;
    await receiver.stop();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await ingest(relay));
    await new Promise((resolve) => setTimeout(resolve, 700));
    await receiver.start(port);
    await receiver.deliveries.until(() => receiver.accepted().length === 5, 'all five after the outage', 15_000);
    expect(receiver.accepted()).toEqual(ids);
    expect(receiver.controls('gap')).toEqual([]);
    const metrics = await scrape(relay, { authorization: `Bearer ${keys.alice}` });
    expect(metrics.get('relay_callback_attempts_total{result="connection_refused"}')).toBeGreaterThan(0);
  });

  it('410 ends the subscription: nothing more is sent, and unsubscribing finds nothing', async () => {
    const { relay, receiver } = await start({ RELAY_WEBHOOK_RETRY: '50ms' });
    await subscribeTo(relay, receiver);
    receiver.script = ({ body }) => (isEvent(body) ? 410 : 200);
    await ingest(relay);
    await receiver.deliveries.until((items) => items.some((d) => d.status === 410), 'the 410');
    await ingest(relay);
    const gone = await rpc(relay, 'events/unsubscribe', { name: 'cx_events', delivery: { url: receiver.url } });
    expect(gone.error).toMatchObject({ code: -32011 });
    expect(receiver.deliveries.items.filter((d) => isEvent(d.body))).toHaveLength(1);
  });

  it('413 is not retried: the event is skipped, reported as a gap, and delivery moves on', async () => {
    const { relay, receiver } = await start({ RELAY_WEBHOOK_RETRY: '50ms,50ms' });
    await subscribeTo(relay, receiver);
    const big = await ingest(relay, { padding: 2000 });
    receiver.script = ({ body }) => (body.eventId === big ? 413 : 200);
    const next = await ingest(relay);
    await receiver.deliveries.until(() => receiver.accepted().includes(next), 'the event after the 413');
    expect(receiver.deliveries.items.filter((d) => d.body.eventId === big).map((d) => d.status)).toEqual([413]);
    expect(receiver.controls('gap').map((d) => d.body)).toEqual([{ type: 'gap', cursor: big, reason: 'http_413' }]);
    const order = receiver.deliveries.items.map((d) => d.body.eventId ?? d.body.type);
    expect(order.indexOf('gap')).toBeLessThan(order.indexOf(next));
  });

  it('an event that exhausts its attempts is abandoned as a gap; the next is delivered', async () => {
    const { relay, receiver } = await start({ RELAY_WEBHOOK_RETRY: '50ms,50ms,50ms' });
    await subscribeTo(relay, receiver);
    const poisoned = await ingest(relay);
    receiver.script = ({ body }) => (body.eventId === poisoned ? 500 : 200);
    const next = await ingest(relay);
    await receiver.deliveries.until(() => receiver.accepted().includes(next), 'the next event');
    expect(receiver.deliveries.items.filter((d) => d.body.eventId === poisoned)).toHaveLength(4);
    expect(receiver.controls('gap').map((d) => d.body.reason)).toEqual(['http_5xx']);
    const metrics = await eventually(async () => {
      const m = await scrape(relay, { authorization: `Bearer ${keys.alice}` });
      return m.get('relay_callback_events_total{result="delivered"}') === 1 ? m : undefined;
    }, 'the delivery counted');
    expect(metrics.get('relay_callback_events_total{result="abandoned"}')).toBe(1);
  });

  it('a timeout is a failed attempt like any other', async () => {
    const { relay, receiver } = await start({ RELAY_WEBHOOK_RETRY: '50ms,50ms', RELAY_WEBHOOK_TIMEOUT: '300ms' });
    await subscribeTo(relay, receiver);
    let hung = false;
    receiver.script = ({ body }) => (isEvent(body) && !hung ? ((hung = true), 'hang') : 200);
    const id = await ingest(relay);
    await receiver.deliveries.until(() => receiver.accepted().includes(id), 'the retry after the timeout');
    const metrics = await scrape(relay, { authorization: `Bearer ${keys.alice}` });
    expect(metrics.get('relay_callback_attempts_total{result="timeout"}')).toBe(1);
  });

  it('429 waits its Retry-After without spending an attempt, and says throttled', async () => {
    const { relay, receiver } = await start({ RELAY_WEBHOOK_RETRY: '50ms' });
    await subscribeTo(relay, receiver);
    let throttles = 3;
    receiver.script = ({ body }) => (isEvent(body) && throttles-- > 0 ? { status: 429, headers: { 'retry-after': '1' } } : 200);
    const id = await ingest(relay);
    await receiver.deliveries.until((items) => items.filter((d) => d.status === 429).length >= 1, 'a 429');
    const status = await subscribeTo(relay, receiver);
    expect(status.result?.deliveryStatus).toMatchObject({ active: true, lastError: 'throttled', throttled: true, retryAfterMs: expect.any(Number) });
    await receiver.deliveries.until(() => receiver.accepted().includes(id), 'delivery after three 429s', 10_000);
    expect(receiver.controls('gap')).toEqual([]);
  });

  it('sustained failure suspends with a terminated envelope; a refresh resumes from the held event', async () => {
    const { relay, receiver } = await start({ RELAY_WEBHOOK_RETRY: Array(10).fill('150ms').join(','), RELAY_WEBHOOK_SUSPEND_AFTER: '1s' });
    await subscribeTo(relay, receiver);
    receiver.script = ({ body }) => (isEvent(body) ? 503 : 200);
    const held = await ingest(relay);
    await receiver.deliveries.until(() => receiver.controls('terminated').length === 1, 'the terminated envelope', 10_000);
    expect(receiver.controls('terminated')[0]!.body.error).toMatchObject({ code: -32015, data: { reason: 'http_5xx', suspended: true } });
    const later = await ingest(relay);
    const refresh = await subscribeTo(relay, receiver);
    expect(refresh.result?.deliveryStatus).toMatchObject({ active: false, lastError: 'http_5xx', failedSince: expect.any(String) });
    receiver.script = () => 200;
    await receiver.deliveries.until(() => receiver.accepted().length === 2, 'the held events after the refresh');
    expect(receiver.accepted()).toEqual([held, later]);
    expect(receiver.controls('gap')).toEqual([]);
  });
});
