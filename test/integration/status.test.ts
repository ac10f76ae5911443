import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/app.js';
import { sendSample } from '../../src/ingest/send-sample.js';
import type { StatusReport } from '../../src/observe/status-report.js';
import { connectModernAgent, eventually, ingest, keys, toolOutcome } from '../support/mcp-clients.js';
import { type LogLine, metricKey as key, scrape, startObservedRelay } from '../support/observed-relay.js';
import { startTestRelay, testSecrets } from '../support/relay.js';

const auth = { authorization: `Bearer ${keys.alice}` };

async function status(relay: Pick<Relay, 'url'>, query = '', headers: Record<string, string> = auth): Promise<{ code: number; body: any }> {
  const res = await fetch(`${relay.url}/status${query}`, { headers });
  return { code: res.status, body: await res.json() };
}

describe('an event nobody takes within the drop deadline', () => {
  let relay: Relay;
  let lines: LogLine[];
  let report: StatusReport;
  beforeAll(async () => {
    ({ relay, lines } = await startObservedRelay({ RELAY_API_KEYS: `${keys.alice}:alice`, RELAY_DROP_DEADLINE_S: '1' }));
    const agent = await connectModernAgent(relay);
    const dropped = await sendSample({ url: relay.url, source: 'stripe', sample: 'payment_failed', secret: testSecrets.stripe, nowMs: Date.now() });
    expect(dropped.status).toBe(200);
    const taken = await ingest(relay, { type: 'order.shipped' });
    const claimed = toolOutcome(await agent.client.callTool({ name: 'check_pending_events', arguments: { types: ['order.shipped'] } })).body.events;
    expect(claimed.map((e: { id: string }) => e.id)).toEqual([taken]);
    await agent.close();
    report = await eventually(async () => {
      const { body } = await status(relay);
      return body.events.due === 2 && body.alert ? (body as StatusReport) : undefined;
    }, 'both deadlines to pass');
  });
  afterAll(() => relay.close());

  it('counts it dropped and the claimed one processed: a drop rate of 1 in 2', () => {
    expect(report.events).toEqual({ accepted: 2, processed: 1, dropped: 1, due: 2, dropRate: 0.5, threshold: 0.001, deadlineS: 1 });
    expect(report.webhooks).toMatchObject({ received: 2, accepted: 2, duplicate: 0, rejected: 0 });
  });

  it('reports the alert on /status with the offending source and type', () => {
    expect(report.status).toBe('alert');
    expect(report.alert).toEqual({ since: expect.any(String), dropRate: 0.5, threshold: 0.001, offenders: [{ source: 'stripe', type: 'payment.failed', dropped: 1 }] });
  });

  it('shows the drop in /metrics: dropped by source and type, the rate and the alert', async () => {
    const m = await scrape(relay, auth);
    expect(m.get(key('relay_events_dropped_total', { source: 'stripe', type: 'payment.failed' }))).toBe(1);
    expect(m.get(key('relay_events_dropped_total', { source: 'standard', type: 'order.shipped' }))).toBeUndefined();
    expect(m.get(key('relay_drop_rate'))).toBe(0.5);
    expect(m.get(key('relay_drop_alert'))).toBe(1);
  });

  it('logs one structured warning for the raise', () => {
    const warnings = lines.filter((l) => l.msg === 'drop rate above threshold');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 40, alert: 'drop_rate', state: 'raised', threshold: 0.001, offenders: [{ source: 'stripe', type: 'payment.failed', dropped: 1 }] });
  });

  it('appends one relay.alert event agents can subscribe to, which does not count as a webhook event', async () => {
    const { events } = await relay.log.read({ after: null, filter: { types: ['relay.alert'] } });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ source: 'relay', type: 'relay.alert', data: { alert: 'drop_rate', state: 'raised', threshold: 0.001, offenders: [{ source: 'stripe', type: 'payment.failed', dropped: 1 }] } });
    const m = await scrape(relay, auth);
    expect([...m.keys()].filter((k) => k.startsWith('relay_events_accepted_total') && k.includes('relay.alert'))).toEqual([]);
    expect((await status(relay)).body.events.accepted).toBe(2);
  });
});

describe('GET /status', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await startTestRelay({ RELAY_REACTIONS: 'on' });
  });
  afterAll(() => relay.close());

  it.each([
    ['', 3600, 10, 360],
    ['?since=15m', 900, 10, 90],
    ['?since=24h', 86_400, 60, 1440],
    ['?since=7d', 604_800, 3600, 168],
  ])('answers %s over its window with a series of fixed buckets', async (query, windowS, bucketS, points) => {
    const { code, body } = await status(relay, query, {});
    expect(code).toBe(200);
    expect(body.windowS).toBe(windowS);
    expect(body.series.bucketS).toBe(bucketS);
    expect(body.series.points).toHaveLength(points);
    expect(Date.parse(body.generatedAt) - Date.parse(body.since)).toBe(windowS * 1000);
  });

  it.each([
    ['?since=soon', 'invalid_since'],
    ['?since=', 'invalid_since'],
    ['?since=15m&since=1h', 'invalid_since'],
    ['?since=30d', 'since_out_of_range'],
    ['?since=1s', 'since_out_of_range'],
  ])('refuses %s with 400 and a reason code', async (query, error) => {
    const { code, body } = await status(relay, query, {});
    expect(code).toBe(400);
    expect(body).toEqual({ error, message: expect.any(String) });
  });

  it('counts reaction runs per handler as the action success rate, and reactions do not make an event processed', async () => {
    const rejected = await fetch(`${relay.url}/webhooks/stripe`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(rejected.status).toBe(400);
    await sendSample({ url: relay.url, source: 'stripe', sample: 'payment_failed', secret: testSecrets.stripe, nowMs: Date.now() });
    const body = await eventually(async () => {
      const { body } = await status(relay, '', {});
      return body.reactions.byHandler['relay/payment-failed'] ? (body as StatusReport) : undefined;
    }, 'the reaction to run');
    expect(body.reactions).toEqual({ successRate: 1, byHandler: { 'relay/payment-failed': { succeeded: 1, failed: 0, skipped: 0, successRate: 1 } } });
    expect(body.webhooks).toEqual({
      received: 2,
      accepted: 1,
      duplicate: 0,
      rejected: 1,
      bySource: { stripe: { accepted: 1, duplicate: 0, rejected: 1, rejectedByReason: { missing_signature: 1 } } },
    });
    expect(body.events).toMatchObject({ accepted: 1, processed: 0, dropped: 0, due: 0, dropRate: null });
    expect(body.groups['relay/reactions']).toEqual({ pending: 0, leased: 0, deadLettered: 0 });
    // The open relay's own group waits for the delivery and the outreach.requested it caused.
    expect(body.groups.local).toEqual({ pending: 2, leased: 0, deadLettered: 0 });
    expect(body.streams).toEqual({ '2025-11-25': 0, '2026-07-28': 0 });
    // The sample as shipped happened in 2023: later than the largest latency bin, so no
    // percentile is given (never the bin's cap as a value) and the report says overflow.
    expect(body.latencyMs.delivery).toEqual({ p50: null, p95: null, p99: null, count: 1, overflow: true });
    expect(body.latencyMs.processing).toEqual({ p50: null, p95: null, p99: null, count: 0, overflow: false });
    expect(body.series.points.reduce((n, p) => n + p.accepted, 0)).toBe(1);
    expect(body.series.points.find((p) => p.accepted === 1)).toMatchObject({ bySource: { stripe: 1 }, deliveryP50: null, deliveryP95: null });
    const m = await scrape(relay);
    expect(m.get(key('relay_reaction_runs_total', { handler: 'relay/payment-failed', outcome: 'succeeded' }))).toBe(1);
    expect(m.get(key('relay_consumer_group_events', { group: 'relay/reactions', state: 'pending' }))).toBe(0);
  });
});

describe('GET /readyz', () => {
  it('answers 200 while the store answers and 503 with a reason once it is closed, while /healthz stays liveness', async () => {
    const relay = await startTestRelay();
    try {
      const ready = await fetch(`${relay.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ready', store: 'memory', head: null });
      await relay.log.close();
      const closed = await fetch(`${relay.url}/readyz`);
      expect(closed.status).toBe(503);
      expect(await closed.json()).toEqual({ status: 'unavailable', error: 'store_unavailable', message: expect.any(String) });
    } finally {
      await relay.close();
    }
  });
});
