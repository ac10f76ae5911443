import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/app.js';
import { CallbackReceiver, newSecret } from '../support/callback-receiver.js';
import { ingest, keys, startMcpRelay } from '../support/mcp-clients.js';
import { legacyRpc, rpc, subscribeTo } from '../support/webhook-rpc.js';

const FAST = { RELAY_WEBHOOK_ALLOW: 'loopback', RELAY_WEBHOOK_RETRY: '50ms,100ms,150ms' };

describe('events/subscribe and events/unsubscribe', () => {
  let relay: Relay;
  let receiver: CallbackReceiver;
  beforeEach(async () => {
    relay = await startMcpRelay({ ...FAST, RELAY_MAX_WEBHOOKS_PER_PRINCIPAL: '2' });
    receiver = await new CallbackReceiver().start();
  });
  afterEach(async () => {
    await relay.close();
    await receiver.stop();
  });

  it('verifies the endpoint, then delivers every later event in log order, signed', async () => {
    const { result, error } = await subscribeTo(relay, receiver);
    expect(error).toBeUndefined();
    expect(result).toMatchObject({ id: expect.stringMatching(/^sub_[0-9a-f]{32}$/), truncated: false, deliveryStatus: { active: true, lastError: null } });
    expect(Date.parse(result!.refreshBefore) - Date.now()).toBeGreaterThan(23 * 3_600_000);
    expect(receiver.controls('verification')).toHaveLength(1);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await ingest(relay));
    await receiver.deliveries.until(() => receiver.accepted().length === 5, '5 deliveries');
    expect(receiver.accepted()).toEqual(ids);
    const delivery = receiver.deliveries.items.find((d) => d.body.eventId === ids[0])!;
    expect(delivery.subscriptionId).toBe(result!.id);
    expect(delivery.webhookId).toBe(ids[0]);
    expect(delivery.body).toMatchObject({ name: 'cx_events', cursor: ids[0], data: { id: ids[0] } });
    expect(receiver.unverified).toEqual([]);
  });

  it('works the same on a 2025-11-25 session', async () => {
    const { result, error } = await legacyRpc(relay, 'events/subscribe', { name: 'payment.failed', delivery: { mode: 'webhook', url: receiver.url, secret: receiver.secret } });
    expect(error).toBeUndefined();
    expect(result?.id).toMatch(/^sub_/);
    await ingest(relay, { type: 'order.created' });
    const id = await ingest(relay, { type: 'payment.failed' });
    await receiver.deliveries.until(() => receiver.accepted().length === 1, 'the payment.failed delivery');
    expect(receiver.accepted()).toEqual([id]);
    expect(receiver.deliveries.items.at(-1)!.body.name).toBe('payment.failed');
  });

  it('refreshes by key: the same id, a new grant, the new secret signing beside the old', async () => {
    const first = await subscribeTo(relay, receiver, { arguments: { types: ['payment.*'], sources: ['standard'] }, ttlMs: 120_000 });
    const rotated = newSecret();
    const again = await subscribeTo(relay, receiver, { arguments: { sources: ['standard'], types: ['payment.*'] }, delivery: { secret: rotated } });
    expect(again.result?.id).toBe(first.result?.id);
    expect(Date.parse(again.result!.refreshBefore)).toBeGreaterThan(Date.parse(first.result!.refreshBefore));
    expect(receiver.controls('verification')).toHaveLength(1);
    // The receiver knows only the new secret now; deliveries carry both signatures during the grace.
    receiver.secrets = [rotated];
    const id = await ingest(relay);
    await receiver.deliveries.until(() => receiver.accepted().includes(id), 'a delivery under the new secret');
    expect(receiver.unverified).toEqual([]);
  });

  it('keys on the principal: another principal subscribing the same URL gets another subscription', async () => {
    const alice = await subscribeTo(relay, receiver);
    const bob = await subscribeTo(relay, receiver, {}, { key: keys.bob });
    expect(bob.result?.id).not.toBe(alice.result?.id);
    const gone = await rpc(relay, 'events/unsubscribe', { name: 'cx_events', delivery: { url: receiver.url } }, { key: keys.bob });
    expect(gone.error).toBeUndefined();
    const id = await ingest(relay);
    await receiver.deliveries.until(() => receiver.accepted().includes(id), "alice's delivery");
    expect(receiver.deliveries.items.filter((d) => d.body.eventId === id).map((d) => d.subscriptionId)).toEqual([alice.result?.id]);
  });

  it('unsubscribe stops deliveries; a second unsubscribe is -32011', async () => {
    await subscribeTo(relay, receiver);
    expect((await rpc(relay, 'events/unsubscribe', { name: 'cx_events', delivery: { url: receiver.url } })).error).toBeUndefined();
    const again = await rpc(relay, 'events/unsubscribe', { name: 'cx_events', delivery: { url: receiver.url } });
    expect(again.error).toMatchObject({ code: -32011, data: { kind: 'subscription' } });
    await ingest(relay);
    const marker = await subscribeTo(relay, receiver, { name: 'payment.failed' });
    expect(marker.error).toBeUndefined();
    const id = await ingest(relay, { type: 'payment.failed' });
    await receiver.deliveries.until(() => receiver.accepted().includes(id), 'the second subscription');
    expect(receiver.deliveries.items.filter((d) => d.body.type === undefined).map((d) => d.body.name)).toEqual(['payment.failed']);
  });

  it('starts from a cursor with the backlog, and says truncated for a cursor the log never had', async () => {
    const before = await ingest(relay);
    const backlog = [await ingest(relay), await ingest(relay)];
    const { result } = await subscribeTo(relay, receiver, { cursor: before });
    expect(result).toMatchObject({ truncated: false, cursor: before });
    await receiver.deliveries.until(() => receiver.accepted().length === 2, 'the backlog');
    expect(receiver.accepted()).toEqual(backlog);
    const other = await new CallbackReceiver().start();
    try {
      const unknown = await subscribeTo(relay, other, { cursor: 'not-a-cursor-of-this-log' });
      expect(unknown.result).toMatchObject({ truncated: true });
    } finally {
      await other.stop();
    }
  });

  it('refuses what it cannot serve, each with its code', async () => {
    const bad = (delivery: Record<string, unknown>, params: Record<string, unknown> = {}) => subscribeTo(relay, receiver, { ...params, delivery });
    expect((await bad({ secret: 'not-whsec' })).error).toMatchObject({ code: -32602 });
    expect((await bad({ secret: `whsec_${Buffer.alloc(8).toString('base64')}` })).error).toMatchObject({ code: -32602, message: expect.stringContaining('24') });
    expect((await bad({ secret: 'whsec_!!!!' })).error).toMatchObject({ code: -32602 });
    expect((await bad({ url: 'ftp://127.0.0.1/x' })).error).toMatchObject({ code: -32602 });
    expect((await bad({ url: 'http://user:pw@127.0.0.1/x' })).error).toMatchObject({ code: -32602 });
    expect((await bad({ url: 'http://192.0.2.1/hook' })).error).toMatchObject({ code: -32602 });
    expect((await bad({ mode: 'push' })).error).toMatchObject({ code: -32014, data: { feature: 'deliveryMode', value: 'push' } });
    expect((await bad({}, { name: 'no.such.type' })).error).toMatchObject({ code: -32011, data: { kind: 'event' } });
    expect((await bad({}, { arguments: { colour: 'red' } })).error).toMatchObject({ code: -32602 });
    expect((await rpc(relay, 'events/subscribe', { name: 'cx_events' })).error).toMatchObject({ code: -32602 });
    const noCapability = await subscribeTo(relay, receiver, {}, { capabilities: {} });
    expect(noCapability.error?.code).toBe(-32021);
    expect(receiver.hits).toEqual([]);
  });

  it('refuses a principal over its quota with -32013', async () => {
    expect((await subscribeTo(relay, receiver, { name: 'payment.failed' })).error).toBeUndefined();
    expect((await subscribeTo(relay, receiver, { name: 'order.created' })).error).toBeUndefined();
    const over = await subscribeTo(relay, receiver, { name: 'order.shipped' });
    expect(over.error).toMatchObject({ code: -32013, data: { limit: 'webhook_subscriptions', max: 2 } });
    // A refresh of an existing one is not a new subscription.
    expect((await subscribeTo(relay, receiver, { name: 'order.created' })).error).toBeUndefined();
  });
});

describe('subscribes in progress', () => {
  it('holds at most four per principal at once (each may verify an endpoint): the fifth is -32013', async () => {
    const relay = await startMcpRelay(FAST);
    const receiver = await new CallbackReceiver().start();
    try {
      receiver.script = ({ body }) => (body.type === 'verification' ? { status: 200, delayMs: 500 } : 200);
      const names = ['payment.failed', 'payment.succeeded', 'order.created', 'order.shipped', 'order.delayed'];
      const answers = await Promise.all(names.map((name) => subscribeTo(relay, receiver, { name })));
      const refused = answers.filter((a) => a.error !== undefined);
      expect(refused.map((a) => a.error)).toEqual([expect.objectContaining({ code: -32013, data: { limit: 'webhook_subscribes', max: 4 } })]);
      expect((await subscribeTo(relay, receiver, { name: 'order.delivered' }, { key: keys.bob })).error).toBeUndefined();
    } finally {
      await relay.close();
      await receiver.stop();
    }
  });
});

describe('endpoint verification', () => {
  let relay: Relay;
  let receiver: CallbackReceiver;
  beforeEach(async () => {
    relay = await startMcpRelay(FAST);
    receiver = await new CallbackReceiver().start();
  });
  afterEach(async () => {
    await relay.close();
    await receiver.stop();
  });

  it('fails with -32015 and the reason, and stores nothing', async () => {
    receiver.script = () => 404;
    expect((await subscribeTo(relay, receiver)).error).toMatchObject({ code: -32015, data: { reason: 'http_4xx' } });
    receiver.script = () => 503;
    expect((await subscribeTo(relay, receiver)).error).toMatchObject({ code: -32015, data: { reason: 'http_5xx' } });
    receiver.script = () => ({ status: 200, body: JSON.stringify({ challenge: 'guessed' }) });
    expect((await subscribeTo(relay, receiver)).error).toMatchObject({ code: -32015, data: { reason: 'challenge_failed' } });
    const port = receiver.port;
    await receiver.stop();
    const closed = await rpc(relay, 'events/subscribe', {
      name: 'cx_events',
      delivery: { mode: 'webhook', url: `http://127.0.0.1:${port}/hooks/relay`, secret: newSecret() },
    });
    expect(closed.error).toMatchObject({ code: -32015, data: { reason: 'connection_refused' } });
    const listed = await rpc(relay, 'events/unsubscribe', { name: 'cx_events', delivery: { url: `http://127.0.0.1:${port}/hooks/relay` } });
    expect(listed.error).toMatchObject({ code: -32011 });
  });

  it("accepts an origin's receiver document listing the callback path instead of the echo", async () => {
    receiver.script = ({ body }) => (body.type === 'verification' ? { status: 200, body: '{}' } : 200);
    receiver.document = { receivers: ['/hooks/'] };
    const { result, error } = await subscribeTo(relay, receiver);
    expect(error).toBeUndefined();
    expect(result?.id).toMatch(/^sub_/);
    // Another path of the same origin, not under a listed prefix (a verified URL is not asked again).
    const other = await subscribeTo(relay, receiver, { delivery: { url: receiver.url.replace('/hooks/', '/other/') } });
    expect(other.error).toMatchObject({ code: -32015, data: { reason: 'challenge_failed' } });
  });

  it('asks an open relay for an authenticated principal (-32012)', async () => {
    const open = await startMcpRelay({ ...FAST, RELAY_API_KEYS: '' });
    try {
      const answer = await subscribeTo(open, receiver);
      expect(answer.error).toMatchObject({ code: -32012 });
      expect(receiver.hits).toEqual([]);
    } finally {
      await open.close();
    }
  });
});
