import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/app.js';
import { ulidTime } from '../../src/events/ulid.js';
import { loadSample } from '../../src/ingest/samples.js';
import { signDelivery } from '../../src/ingest/sign.js';
import type { StatusReport } from '../../src/observe/status-report.js';
import { connectLegacyAgent, connectModernAgent, eventually, ingest, keys, modernStream, postStandardWebhook, toolOutcome } from '../support/mcp-clients.js';
import { type LogLine, metricKey as key, scrape, startObservedRelay } from '../support/observed-relay.js';
import { testSecrets } from '../support/relay.js';

const auth = { authorization: `Bearer ${keys.alice}` };

/** A Stripe payment_failed delivery with its own id, that happened `ageS` whole seconds before now. */
function stripeDelivery(id: string, ageS: number, secret: string = testSecrets.stripe) {
  const body = Buffer.from(JSON.stringify({ ...(loadSample('payment_failed').body as object), id, created: Math.floor(Date.now() / 1000) - ageS }));
  return { body, headers: signDelivery('stripe', body, { secret, nowMs: Date.now() }) };
}

async function post(relay: Relay, route: string, delivery: { body: Buffer; headers: Record<string, string> }, extra: Record<string, string> = {}) {
  return fetch(`${relay.url}/webhooks/${route}`, { method: 'POST', body: delivery.body, headers: { ...delivery.headers, ...extra } });
}

describe('GET /metrics after known traffic', () => {
  let relay: Relay;
  let lines: LogLine[];
  beforeAll(async () => {
    ({ relay, lines } = await startObservedRelay({ RELAY_API_KEYS: `${keys.alice}:alice,${keys.bob}:bob` }));
  });
  afterAll(() => relay.close());

  it('counts webhooks by source and outcome, events by type, latencies, deliveries, acks and group state', async () => {
    const first = stripeDelivery('evt_metrics_1', 6);
    expect((await post(relay, 'stripe', first)).status).toBe(200);
    expect((await post(relay, 'stripe', stripeDelivery('evt_metrics_2', 6))).status).toBe(200);
    expect((await post(relay, 'stripe', first)).status).toBe(200);
    expect((await post(relay, 'stripe', stripeDelivery('evt_metrics_3', 6, 'whsec_not_the_secret'))).status).toBe(401);
    expect((await post(relay, 'nope', first)).status).toBe(404);
    expect((await post(relay, 'Weird%20Name', first)).status).toBe(404);
    expect((await postStandardWebhook(relay, { type: 'widget.created' })).status).toBe(200);

    const agent = await connectModernAgent(relay);
    const claimed = toolOutcome(await agent.client.callTool({ name: 'check_pending_events', arguments: { limit: 10 } })).body.events as { id: string; type: string }[];
    expect(claimed).toHaveLength(3);
    expect(toolOutcome(await agent.client.callTool({ name: 'ack_event', arguments: { eventId: claimed[0]!.id } })).isError).toBe(false);
    await agent.close();

    const m = await scrape(relay, auth);
    const webhooks = (source: string, outcome: string) => m.get(key('relay_webhooks_received_total', { source, outcome }));
    expect(webhooks('stripe', 'accepted')).toBe(2);
    expect(webhooks('stripe', 'duplicate')).toBe(1);
    expect(webhooks('stripe', 'signature_mismatch')).toBe(1);
    expect(webhooks('standard', 'accepted')).toBe(1);
    // Unconfigured routes share one label value, whatever they are called.
    expect(webhooks('_unknown', 'unknown_source')).toBe(2);
    expect([...m.keys()].filter((k) => k.includes('nope') || k.includes('Weird'))).toEqual([]);

    const stripe = { source: 'stripe', type: 'payment.failed' };
    const widget = { source: 'standard', type: 'other' };
    expect(m.get(key('relay_events_accepted_total', stripe))).toBe(2);
    expect(m.get(key('relay_events_accepted_total', widget))).toBe(1);
    // Six whole seconds before receipt: above the 5 s bucket, inside the 10 s one.
    expect(m.get(key('relay_event_delivery_latency_seconds_bucket', { ...stripe, le: '5' }))).toBe(0);
    expect(m.get(key('relay_event_delivery_latency_seconds_bucket', { ...stripe, le: '10' }))).toBe(2);
    expect(m.get(key('relay_event_delivery_latency_seconds_count', stripe))).toBe(2);
    expect(m.get(key('relay_event_delivery_latency_seconds_sum', stripe))).toBeGreaterThanOrEqual(12);
    expect(m.get(key('relay_event_delivery_latency_seconds_sum', stripe))).toBeLessThan(16);

    expect(m.get(key('relay_events_processed_total', stripe))).toBe(2);
    expect(m.get(key('relay_events_processed_total', widget))).toBe(1);
    expect(m.get(key('relay_event_processing_latency_seconds_count', stripe))).toBe(2);
    expect(m.get(key('relay_event_processing_latency_seconds_bucket', { ...stripe, le: '+Inf' }))).toBe(2);
    expect(m.get(key('relay_event_ack_latency_seconds_count', claimed[0]!.type === 'payment.failed' ? stripe : widget))).toBe(1);
    expect(m.get(key('relay_events_dropped_total', stripe))).toBeUndefined();
    expect(m.get(key('relay_delivery_tracker_events'))).toBe(3);
    expect(m.get(key('relay_drop_rate'))).toBe(0);
    expect(m.get(key('relay_drop_alert'))).toBe(0);

    expect(m.get(key('relay_consumer_group_events', { group: 'alice', state: 'pending' }))).toBe(2);
    expect(m.get(key('relay_consumer_group_events', { group: 'alice', state: 'leased' }))).toBe(2);
    expect(m.get(key('relay_consumer_group_events', { group: 'alice', state: 'dead_lettered' }))).toBe(0);
    expect(m.get(key('relay_log_head_timestamp_seconds'))).toBe(ulidTime((await relay.log.head())!) / 1000);
    expect(m.get(key('relay_log_oldest_timestamp_seconds'))).toBe(ulidTime((await relay.log.read({ after: null, limit: 1 })).events[0]!.id) / 1000);
    expect(m.get(key('relay_log_retained_events'))).toBe((await relay.log.read({ after: null, limit: 1000 })).events.length);
    expect(m.get(key('relay_log_retained_events'))).toBeGreaterThanOrEqual(3);

    const webhookLines = lines.filter((l) => l.msg === 'webhook');
    expect(webhookLines).toHaveLength(7);
    expect(webhookLines.every((l) => typeof l.requestId === 'string' && !('body' in l))).toBe(true);
  });

  it('counts open push streams by era, a written frame as a delivery, and logs the stream opening and closing', async () => {
    const before = (await scrape(relay, auth)).get(key('relay_events_processed_total', { source: 'standard', type: 'payment.failed' })) ?? 0;
    const stream = await modernStream(relay, {});
    await eventually(async () => ((await scrape(relay, auth)).get(key('relay_push_streams', { era: '2026-07-28' })) === 1 ? true : undefined), 'the stream to be counted');
    const id = await ingest(relay, { type: 'payment.failed' });
    expect((await stream.untilEvents(1))[0]!.id).toBe(id);
    stream.close();
    const m = await eventually(async () => {
      const now = await scrape(relay, auth);
      return now.get(key('relay_push_streams', { era: '2026-07-28' })) === 0 ? now : undefined;
    }, 'the stream to be released');
    expect(m.get(key('relay_push_streams', { era: '2025-11-25' }))).toBe(0);
    expect(m.get(key('relay_events_processed_total', { source: 'standard', type: 'payment.failed' }))).toBe(before + 1);
    expect(m.get(key('relay_stream_ends_total', { stream: '2026-07-28', reason: 'client_closed' }))).toBe(1);
    expect(lines.find((l) => l.msg === 'stream opened')).toMatchObject({ stream: '2026-07-28', principal: 'alice' });
    expect(lines.find((l) => l.msg === 'stream ended')).toMatchObject({ stream: '2026-07-28', principal: 'alice', reason: 'client_closed', framesWritten: 1, durationMs: expect.any(Number) });
    expect(JSON.stringify(lines)).not.toContain(keys.alice);
  });

  it('counts resource-update listeners by era: 2025-11-25 sessions with a subscription, open 2026-07-28 listen streams', async () => {
    const listeners = async () => {
      const m = await scrape(relay, auth);
      return [m.get(key('relay_listeners', { era: '2025-11-25' })), m.get(key('relay_listeners', { era: '2026-07-28' }))];
    };
    expect(await listeners()).toEqual([0, 0]);
    const legacy = await connectLegacyAgent(relay);
    await legacy.client.subscribeResource({ uri: 'events://alice' });
    const modern = await connectModernAgent(relay);
    const subscription = await modern.client.listen({ resourceSubscriptions: ['events://alice'] } as never);
    expect(await listeners()).toEqual([1, 1]);
    expect(((await (await fetch(`${relay.url}/status`, { headers: auth })).json()) as { listeners: unknown }).listeners).toEqual({ '2025-11-25': 1, '2026-07-28': 1 });
    await subscription.close();
    await legacy.close();
    await modern.close();
    await eventually(async () => ((await listeners())[1] === 0 ? true : undefined), 'the listen stream to close');
  });

  it('returns the request id a sender gave, or a fresh one when it gave none or an unusable one', async () => {
    const given = await post(relay, 'stripe', stripeDelivery('evt_request_id', 1), { 'x-request-id': 'req-123.abc' });
    expect(given.headers.get('x-request-id')).toBe('req-123.abc');
    expect(lines.filter((l) => l.msg === 'webhook').at(-1)).toMatchObject({ requestId: 'req-123.abc', outcome: 'accepted' });
    const fresh = await post(relay, 'stripe', stripeDelivery('evt_request_id', 1));
    const generated = fresh.headers.get('x-request-id');
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    const insane = await post(relay, 'stripe', stripeDelivery('evt_request_id', 1), { 'x-request-id': 'a b <script>' });
    expect(insane.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(insane.headers.get('x-request-id')).not.toBe(generated);
    const long = await post(relay, 'stripe', stripeDelivery('evt_request_id', 1), { 'x-request-id': 'x'.repeat(200) });
    expect(long.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses /metrics and /status without a key (401) and from a foreign browser origin (403); /readyz and /healthz stay open', async () => {
    for (const path of ['/metrics', '/status']) {
      expect((await fetch(`${relay.url}${path}`)).status).toBe(401);
      expect((await fetch(`${relay.url}${path}`, { headers: { authorization: 'Bearer wrong-key-0123456789' } })).status).toBe(401);
      expect((await fetch(`${relay.url}${path}`, { headers: { ...auth, origin: 'https://evil.example' } })).status).toBe(403);
    }
    expect((await fetch(`${relay.url}/readyz`)).status).toBe(200);
    expect((await fetch(`${relay.url}/healthz`)).status).toBe(200);
  });

  it('serves Prometheus text from a registry of its own: two relays in one process count apart', async () => {
    const other = await startObservedRelay();
    try {
      const res = await fetch(`${other.relay.url}/metrics`);
      expect(res.headers.get('content-type')).toContain('text/plain');
      const m = await scrape(other.relay);
      expect(m.get(key('relay_webhooks_received_total', { source: 'stripe', outcome: 'accepted' }))).toBeUndefined();
      expect(m.get(key('relay_delivery_tracker_events'))).toBe(0);
    } finally {
      await other.relay.close();
    }
  });
});

describe('an event hours or days late', () => {
  const DAY_S = 86_400;

  it('is counted in a /metrics bucket that says how late, and /status gives its latency, or overflow beyond the largest bin', async () => {
    const { relay } = await startObservedRelay();
    try {
      expect((await post(relay, 'stripe', stripeDelivery('evt_two_days_late', 2 * DAY_S))).status).toBe(200);
      const stripe = { source: 'stripe', type: 'payment.failed' };
      const buckets = async () => {
        const m = await scrape(relay);
        return ['3600', '21600', '86400', '259200', '+Inf'].map((le) => m.get(key('relay_event_delivery_latency_seconds_bucket', { ...stripe, le })));
      };
      expect(await buckets()).toEqual([0, 0, 0, 1, 1]);
      const twoDaysMs = 2 * DAY_S * 1000;
      const first = (await (await fetch(`${relay.url}/status?since=15m`)).json()) as StatusReport;
      expect(first.latencyMs.delivery).toEqual({ p50: expect.any(Number), p95: first.latencyMs.delivery.p50, p99: first.latencyMs.delivery.p50, count: 1, overflow: false });
      // Within one log-scale bin (≤ 19 %) above the true two days.
      expect(first.latencyMs.delivery.p50).toBeGreaterThanOrEqual(twoDaysMs);
      expect(first.latencyMs.delivery.p50).toBeLessThanOrEqual(twoDaysMs * 1.19);
      expect(first.series.points.find((p) => p.accepted === 1)?.deliveryP50).toBe(first.latencyMs.delivery.p50);

      // Sixty days is past the largest bin (~35 days): Prometheus counts it in +Inf only, /status gives no number.
      expect((await post(relay, 'stripe', stripeDelivery('evt_sixty_days_late', 60 * DAY_S))).status).toBe(200);
      expect(await buckets()).toEqual([0, 0, 0, 1, 2]);
      const second = (await (await fetch(`${relay.url}/status?since=15m`)).json()) as StatusReport;
      expect(second.latencyMs.delivery).toEqual({ p50: first.latencyMs.delivery.p50, p95: null, p99: null, count: 2, overflow: true });
    } finally {
      await relay.close();
    }
  });
});
