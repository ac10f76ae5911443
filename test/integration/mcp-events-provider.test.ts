import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Relay } from '../../src/app.js';
import type { Event } from '../../src/events/event.js';
import { newSecret } from '../support/callback-receiver.js';
import { connectModernAgent, eventually, ingest, startMcpRelay } from '../support/mcp-clients.js';
import { startTestRelay } from '../support/relay.js';

/** Relay B's log, oldest first. */
async function logOf(relay: Relay): Promise<Event[]> {
  return (await relay.log.read({ after: '0'.repeat(26), limit: 1_000 })).events;
}

/** A POST to B's `/webhooks/upstream` signed by the `standardwebhooks` library, as any Events server would send it. */
async function postSigned(relay: Relay, secret: string, body: unknown, webhookId = `msg_${randomUUID()}`) {
  const raw = JSON.stringify(body);
  // One instant for the signature and the header: two clock reads can fall either side of a second.
  const at = new Date();
  const signature = new Webhook(secret).sign(webhookId, at, raw);
  const res = await fetch(`${relay.url}/webhooks/upstream`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'webhook-id': webhookId, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': signature },
    body: raw,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('an mcp-events source: one relay receiving another relay\'s webhook deliveries', () => {
  const secret = newSecret();
  let upstream: Relay;
  let downstream: Relay;
  beforeEach(async () => {
    upstream = await startMcpRelay({ RELAY_WEBHOOK_ALLOW: 'loopback', RELAY_WEBHOOK_RETRY: '50ms,100ms' });
    // B's body limit is what makes A abandon an oversized event: the 413 becomes a gap envelope.
    downstream = await startTestRelay({ RELAY_SOURCES: 'upstream:mcp-events', UPSTREAM_WEBHOOK_SECRET: secret, RELAY_MAX_BODY_BYTES: '4096' });
  });
  afterEach(async () => {
    await upstream.close();
    await downstream.close();
  });

  /** `events/subscribe` of A's `cx_events` to B's route, through the MCP SDK client. */
  async function subscribe(cursor: string | null) {
    const agent = await connectModernAgent(upstream);
    try {
      const params = { name: 'cx_events', cursor, delivery: { mode: 'webhook', url: `${downstream.url}/webhooks/upstream`, secret } };
      return (await agent.client.request({ method: 'events/subscribe', params } as never, z.looseObject({}))) as Record<string, any>;
    } finally {
      await agent.close();
    }
  }

  async function unsubscribe() {
    const agent = await connectModernAgent(upstream);
    try {
      const params = { name: 'cx_events', delivery: { url: `${downstream.url}/webhooks/upstream` } };
      await agent.client.request({ method: 'events/unsubscribe', params } as never, z.looseObject({}));
    } finally {
      await agent.close();
    }
  }

  it('answers the verification, then keeps every event with its type in order, deduplicated when A delivers again', async () => {
    const before = await ingest(upstream);
    const subscription = await subscribe(null);
    expect(subscription).toMatchObject({ id: expect.stringMatching(/^sub_/), deliveryStatus: { active: true, lastError: null } });
    expect(await logOf(downstream)).toEqual([]);

    const ids = [await ingest(upstream, { type: 'payment.failed', customerId: 'cus_up' }), await ingest(upstream, { type: 'order.shipped' }), await ingest(upstream, { type: 'vendor.thing' })];
    const kept = await eventually(async () => {
      const events = await logOf(downstream);
      return events.length === 3 ? events : undefined;
    }, 'three events in B');
    const originals = (await logOf(upstream)).filter((e) => ids.includes(e.id));
    expect(kept.map((e) => e.sourceEventId)).toEqual(ids);
    expect(kept.map((e) => e.type)).toEqual(['payment.failed', 'order.shipped', 'upstream.standard.vendor.thing']);
    expect(originals.map((e) => e.type)).toEqual(['payment.failed', 'order.shipped', 'standard.vendor.thing']);
    expect(kept[0]).toMatchObject({ source: 'upstream', subject: 'customer:cus_up', customerId: 'cus_up', occurredAt: originals[0]!.occurredAt, data: originals[0]!.data });
    expect(kept[0]!.raw).toMatchObject({ eventId: ids[0], name: 'cx_events', cursor: ids[0], data: { id: ids[0], source: 'standard' } });

    // A replays from before the three: B answers them as duplicates and keeps only the new one.
    await unsubscribe();
    await subscribe(before);
    const next = await ingest(upstream, { type: 'payment.succeeded' });
    const after = await eventually(async () => {
      const events = await logOf(downstream);
      return events.some((e) => e.sourceEventId === next) ? events : undefined;
    }, 'the fourth event in B');
    expect(after.map((e) => e.sourceEventId)).toEqual([...ids, next]);
    const status = (await (await fetch(`${downstream.url}/status`)).json()) as { webhooks: Record<string, number> };
    expect(status.webhooks).toMatchObject({ accepted: 4, duplicate: 3, rejected: 0 });
  });

  it('keeps the gap A reports when B refuses an event as too large', async () => {
    await subscribe(null);
    const big = await ingest(upstream, { padding: 6000 });
    const small = await ingest(upstream);
    const events = await eventually(async () => {
      const all = await logOf(downstream);
      return all.some((e) => e.sourceEventId === small) ? all : undefined;
    }, 'the event after the gap');
    expect(events.map((e) => e.type)).toEqual(['relay.gap', 'payment.failed']);
    expect(events[0]).toMatchObject({ source: 'upstream', sourceType: 'gap', sourceEventId: expect.stringMatching(/^msg_gap_/), data: { cursor: big, reason: 'http_413' } });
  });
});

describe('an mcp-events route refuses what is not a delivery it can keep', () => {
  const secret = newSecret();
  let relay: Relay;
  beforeEach(async () => {
    relay = await startTestRelay({ RELAY_SOURCES: 'upstream:mcp-events', UPSTREAM_WEBHOOK_SECRET: secret });
  });
  afterEach(() => relay.close());

  const occurrence = { eventId: 'ev_1', name: 'build.finished', timestamp: new Date().toISOString(), data: { ok: true }, cursor: 'c1' };

  it('answers a verification with its challenge and stores nothing', async () => {
    expect(await postSigned(relay, secret, { type: 'verification', challenge: 'ch_42' })).toEqual({ status: 200, body: { challenge: 'ch_42' } });
    expect(await logOf(relay)).toEqual([]);
  });

  it('keeps a terminated envelope as relay.terminated, once per webhook-id', async () => {
    const error = { code: -32015, message: 'subscription suspended', data: { suspended: true } };
    const first = await postSigned(relay, secret, { type: 'terminated', error }, 'msg_terminated_1');
    const again = await postSigned(relay, secret, { type: 'terminated', error }, 'msg_terminated_1');
    expect(first).toMatchObject({ status: 200, body: { duplicate: false } });
    expect(again).toMatchObject({ status: 200, body: { id: first.body.id, duplicate: true } });
    expect((await logOf(relay)).map((e) => [e.type, e.data])).toEqual([['relay.terminated', { error }]]);
  });

  it('refuses a bad signature with 401', async () => {
    expect(await postSigned(relay, newSecret(), occurrence)).toMatchObject({ status: 401, body: { error: 'signature_mismatch' } });
    expect(await postSigned(relay, newSecret(), { type: 'verification', challenge: 'ch' })).toMatchObject({ status: 401, body: { error: 'signature_mismatch' } });
  });

  it('refuses an envelope type it does not know with 400', async () => {
    expect(await postSigned(relay, secret, { type: 'subscribed', cursor: 'c1' })).toMatchObject({ status: 400, body: { error: 'unknown_envelope' } });
  });

  it('refuses a malformed occurrence or envelope with 400', async () => {
    const { timestamp: _dropped, ...noTimestamp } = occurrence;
    expect(await postSigned(relay, secret, noTimestamp)).toMatchObject({ status: 400, body: { error: 'malformed_envelope' } });
    expect(await postSigned(relay, secret, { ...occurrence, eventId: undefined })).toMatchObject({ status: 400, body: { error: 'missing_event_id' } });
    expect(await postSigned(relay, secret, { type: 'gap', reason: 'retention' })).toMatchObject({ status: 400, body: { error: 'malformed_envelope' } });
    expect(await postSigned(relay, secret, ['not', 'an', 'object'])).toMatchObject({ status: 400, body: { error: 'malformed_envelope' } });
    expect(await logOf(relay)).toEqual([]);
  });

  it("keeps any Events server's occurrence under its name", async () => {
    expect(await postSigned(relay, secret, occurrence)).toMatchObject({ status: 200, body: { duplicate: false } });
    expect((await logOf(relay)).map((e) => [e.type, e.sourceEventId, e.data])).toEqual([['upstream.build.finished', 'ev_1', { ok: true }]]);
  });
});
