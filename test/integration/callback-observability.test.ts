import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/app.js';
import type { CallbackReport } from '../../src/observe/status-report.js';
import { CallbackReceiver } from '../support/callback-receiver.js';
import { eventually, ingest, keys, startMcpRelay } from '../support/mcp-clients.js';
import { metricKey as key, scrape } from '../support/observed-relay.js';
import { subscribeTo } from '../support/webhook-rpc.js';

const auth = (principal: 'alice' | 'bob') => ({ authorization: `Bearer ${keys[principal]}` });

async function callbacks(relay: Relay, principal: 'alice' | 'bob' = 'alice'): Promise<CallbackReport> {
  const res = await fetch(`${relay.url}/status?since=15m`, { headers: auth(principal) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { callbacks: CallbackReport }).callbacks;
}

/** The report once `ready` holds for it. */
function callbacksWhen(relay: Relay, ready: (report: CallbackReport) => boolean, what: string): Promise<CallbackReport> {
  return eventually(async () => {
    const report = await callbacks(relay);
    return ready(report) ? report : undefined;
  }, what);
}

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

describe('webhook delivery in /status and /metrics', () => {
  let relay: Relay;
  let receiver: CallbackReceiver;
  beforeEach(async () => {
    receiver = await new CallbackReceiver().start();
  });
  afterEach(async () => {
    await relay?.close();
    await receiver.stop();
  });

  it('reports nothing before the first subscription', async () => {
    relay = await startMcpRelay({ RELAY_WEBHOOK_ALLOW: 'loopback' });
    expect(await callbacks(relay)).toEqual({
      subscriptions: { active: 0, suspended: 0 },
      attempts: 0,
      delivered: 0,
      abandoned: 0,
      failures: {},
      ended: {},
      latencyMs: { p50: null, p99: null, count: 0, overflow: false },
    });
  });

  it('counts deliveries to a healthy receiver, with their latency, the same for every principal', async () => {
    relay = await startMcpRelay({ RELAY_WEBHOOK_ALLOW: 'loopback' });
    expect((await subscribeTo(relay, receiver)).error).toBeUndefined();
    for (let i = 0; i < 3; i++) await ingest(relay);
    await receiver.deliveries.until(() => receiver.accepted().length === 3, '3 deliveries');
    const report = await callbacksWhen(relay, (r) => r.delivered === 3, 'the third delivery to be counted');
    expect(report).toEqual({
      subscriptions: { active: 1, suspended: 0 },
      attempts: 3,
      delivered: 3,
      abandoned: 0,
      failures: {},
      ended: {},
      latencyMs: { p50: expect.any(Number), p99: expect.any(Number), count: 3, overflow: false },
    });
    expect(report.latencyMs.p50!).toBeLessThanOrEqual(report.latencyMs.p99!);
    // Relay-wide: bob, who subscribed nothing, sees alice's subscription and deliveries.
    expect(await callbacks(relay, 'bob')).toEqual(report);

    const m = await scrape(relay, auth('alice'));
    expect(m.get(key('relay_callback_attempts_total', { result: 'delivered' }))).toBe(3);
    expect(m.get(key('relay_callback_events_total', { result: 'delivered' }))).toBe(3);
    expect(m.get(key('relay_callback_latency_seconds_count'))).toBe(3);
    expect(m.get(key('relay_callback_subscriptions', { state: 'active' }))).toBe(1);
    expect(m.get(key('relay_callback_subscriptions', { state: 'suspended' }))).toBe(0);
  });

  it('counts a failing receiver by category: 5xx until the event is abandoned, then 410 ends the subscription', async () => {
    relay = await startMcpRelay({ RELAY_WEBHOOK_ALLOW: 'loopback', RELAY_WEBHOOK_RETRY: '50ms,50ms' });
    expect((await subscribeTo(relay, receiver)).error).toBeUndefined();
    receiver.script = ({ body }) => (body.type === undefined ? 503 : 200);
    await ingest(relay);
    await receiver.deliveries.until(() => receiver.controls('gap').length === 1, 'the gap announcing the abandoned event');
    const abandoned = await callbacksWhen(relay, (r) => r.abandoned === 1 && r.attempts === 4, 'the abandonment and the gap to be counted');
    // Three attempts of the event, then the gap envelope (answered 200, so not a failure).
    expect(abandoned).toMatchObject({ subscriptions: { active: 1, suspended: 0 }, delivered: 0, failures: { http_5xx: 3 }, ended: {} });
    expect(abandoned.latencyMs).toEqual({ p50: null, p99: null, count: 0, overflow: false });

    receiver.script = ({ body }) => (body.type === undefined ? 410 : 200);
    await ingest(relay);
    const gone = await callbacksWhen(relay, (r) => r.ended.gone === 1, 'the 410 to end the subscription');
    expect(gone).toMatchObject({ subscriptions: { active: 0, suspended: 0 }, attempts: 5, abandoned: 1, failures: { http_5xx: 3, http_410: 1 }, ended: { gone: 1 } });

    const m = await scrape(relay, auth('alice'));
    expect(m.get(key('relay_callback_attempts_total', { result: 'http_5xx' }))).toBe(3);
    expect(m.get(key('relay_callback_attempts_total', { result: 'http_410' }))).toBe(1);
    expect(m.get(key('relay_callback_attempts_total', { result: 'delivered' }))).toBe(1);
    expect(m.get(key('relay_callback_events_total', { result: 'abandoned' }))).toBe(1);
    expect(m.get(key('relay_callback_events_total', { result: 'delivered' }))).toBeUndefined();
    expect(m.get(key('relay_callback_subscription_ends_total', { reason: 'gone' }))).toBe(1);
    expect(m.get(key('relay_callback_subscriptions', { state: 'active' }))).toBe(0);
  });

  it('counts refused connections until sustained failure suspends the subscription', async () => {
    relay = await startMcpRelay({ RELAY_WEBHOOK_ALLOW: 'loopback', RELAY_WEBHOOK_RETRY: Array(10).fill('200ms').join(','), RELAY_WEBHOOK_SUSPEND_AFTER: '1s' });
    expect((await subscribeTo(relay, receiver)).error).toBeUndefined();
    await receiver.stop();
    await ingest(relay);
    const report = await callbacksWhen(relay, (r) => r.ended.suspended === 1, 'the subscription to be suspended');
    expect(report).toMatchObject({ subscriptions: { active: 0, suspended: 1 }, delivered: 0, abandoned: 0, ended: { suspended: 1 } });
    // Every attempt was refused, the final `terminated` envelope's too.
    expect(Object.keys(report.failures)).toEqual(['connection_refused']);
    expect(report.attempts).toBe(sum(report.failures));
    expect(report.attempts).toBeGreaterThanOrEqual(2);

    const m = await scrape(relay, auth('alice'));
    expect(m.get(key('relay_callback_attempts_total', { result: 'connection_refused' }))).toBe(report.attempts);
    expect(m.get(key('relay_callback_subscription_ends_total', { reason: 'suspended' }))).toBe(1);
    expect(m.get(key('relay_callback_subscriptions', { state: 'suspended' }))).toBe(1);
  });
});
