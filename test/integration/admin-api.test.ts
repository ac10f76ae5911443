import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/app.js';
import { CallbackReceiver } from '../support/callback-receiver.js';
import { ingest, keys, startMcpRelay } from '../support/mcp-clients.js';
import { expectDocumented } from '../support/openapi.js';
import { subscribeTo } from '../support/webhook-rpc.js';

/** One admin API request as `key` (alice is the admin; bob is not). */
async function api(relay: Relay, method: string, path: string, body?: unknown, key: string = keys.alice) {
  const res = await fetch(`${relay.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = { status: res.status, body: (await res.json()) as Record<string, any> };
  // 401 and 405 come from the routes every path shares; the rest is the operator API's own.
  if (res.status !== 401 && res.status !== 405) expectDocumented(method, path, answer.status, answer.body);
  return answer;
}

const enc = encodeURIComponent;
const WEBHOOKS = { sources: ['standard'] };

describe('the operator API', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await startMcpRelay({ RELAY_ADMIN_PRINCIPALS: 'alice', RELAY_MAX_DELIVERIES: '1', RELAY_WEBHOOK_ALLOW: 'loopback', RELAY_WEBHOOK_RETRY: '50ms' });
  });
  afterAll(() => relay.close());

  it('pages through the log with filters, ids and times', async () => {
    const start = new Date().toISOString();
    const ids = [await ingest(relay), await ingest(relay, { type: 'order.created' }), await ingest(relay), await ingest(relay)];
    const first = await api(relay, 'GET', `/events?after=${enc(start)}&limit=2`);
    expect(first.status).toBe(200);
    expect(first.body.events.map((e: { id: string }) => e.id)).toEqual(ids.slice(0, 2));
    const second = await api(relay, 'GET', `/events?after=${first.body.nextCursor}&limit=2`);
    expect(second.body.events.map((e: { id: string }) => e.id)).toEqual(ids.slice(2, 4));
    const orders = await api(relay, 'GET', `/events?after=${enc(start)}&types=order.*`);
    expect(orders.body).toMatchObject({ events: [{ id: ids[1], type: 'order.created' }], nextCursor: null, truncated: false });
    const between = await api(relay, 'GET', `/events?after=${ids[0]}&before=${ids[3]}`, undefined, keys.bob);
    expect(between.body.events.map((e: { id: string }) => e.id)).toEqual(ids.slice(1, 3));
  });

  it('refuses bad queries with a JSON reason, and strangers with 401', async () => {
    expect(await api(relay, 'GET', '/events?after=yesterday')).toMatchObject({ status: 400, body: { error: 'invalid_position' } });
    expect(await api(relay, 'GET', '/events?limit=0')).toMatchObject({ status: 400, body: { error: 'invalid_limit' } });
    expect(await api(relay, 'GET', '/events?colour=red')).toMatchObject({ status: 400, body: { error: 'unknown_parameter' } });
    expect(await api(relay, 'GET', `/events?types=${'x'.repeat(201)}`)).toMatchObject({ status: 400, body: { error: 'invalid_filter' } });
    expect(await api(relay, 'GET', '/events/not-an-id')).toMatchObject({ status: 400, body: { error: 'invalid_id' } });
    expect(await api(relay, 'GET', '/events/01ARZ3NDEKTSV4RRFFQ69G5FAV')).toMatchObject({ status: 404, body: { error: 'not_found' } });
    expect((await fetch(`${relay.url}/events`)).status).toBe(401);
    expect(await api(relay, 'PUT', '/events')).toMatchObject({ status: 405, body: { error: 'method_not_allowed' } });
  });

  it('shows an event with its state in the groups and webhook subscriptions the caller may see', async () => {
    const receiver = await new CallbackReceiver().start();
    try {
      await subscribeTo(relay, receiver, { name: 'payment.failed' });
      const id = await ingest(relay);
      await relay.log.createGroup('alice/show', { from: 'start' });
      await relay.log.createGroup('bob', { from: 'start' });
      await receiver.deliveries.until(() => receiver.accepted().includes(id), 'the webhook delivery');
      const shown = await api(relay, 'GET', `/events/${id}`);
      expect(shown.body.event).toMatchObject({ id, type: 'payment.failed' });
      expect(shown.body.deliveries).toEqual(expect.arrayContaining([expect.objectContaining({ group: 'alice/show', state: 'pending' }), expect.objectContaining({ group: 'bob', state: 'pending' })]));
      expect(shown.body.webhooks).toEqual([expect.objectContaining({ name: 'payment.failed', url: receiver.url, state: expect.stringMatching(/done|pending/) })]);
      const asBob = await api(relay, 'GET', `/events/${id}`, undefined, keys.bob);
      expect(asBob.body.deliveries.map((d: { group: string }) => d.group)).toEqual(['bob']);
      expect(asBob.body.webhooks).toEqual([]);
    } finally {
      await receiver.stop();
    }
  });

  it('works dead letters: list with the error, requeue (admins only), purge; every write recorded', async () => {
    const group = 'alice/dlq';
    await relay.log.createGroup(group, { from: 'now' });
    const id = await ingest(relay);
    const [claimed] = await relay.log.claim(group, { leaseMs: 1000 });
    expect(claimed?.id).toBe(id);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await relay.log.claim(group)).toEqual([]);
    const letters = await api(relay, 'GET', `/groups/${enc(group)}/dead-letters`);
    expect(letters.body.deadLetters).toEqual([expect.objectContaining({ event: expect.objectContaining({ id }), deliveryCount: 1, lastError: expect.any(String), deadLetteredAt: expect.any(String) })]);
    const refused = await api(relay, 'POST', `/groups/${enc(group)}/dead-letters/requeue`, { ids: [id] }, keys.bob);
    expect(refused).toMatchObject({ status: 403, body: { error: 'forbidden' } });
    expect((await relay.log.deadLetters(group)).map((d) => d.event.id)).toEqual([id]);
    expect(await api(relay, 'POST', `/groups/${enc(group)}/dead-letters/requeue`, { ids: [id], all: true })).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    const requeued = await api(relay, 'POST', `/groups/${enc(group)}/dead-letters/requeue`, { ids: [id] });
    expect(requeued.body).toEqual({ group, requeued: [id] });
    // Admin writes are events too (`relay.admin`): claims here take only the webhooks' events.
    expect((await relay.log.claim(group, { leaseMs: 1000, filter: WEBHOOKS })).map((e) => e.id)).toEqual([id]);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await relay.log.claim(group, { filter: WEBHOOKS });
    expect((await api(relay, 'POST', `/groups/${enc(group)}/dead-letters/purge`, { all: true })).body).toEqual({ group, purged: [id] });
    expect((await api(relay, 'GET', `/groups/${enc(group)}/dead-letters`)).body.deadLetters).toEqual([]);
    const recorded = await api(relay, 'GET', '/events?types=relay.admin&limit=500');
    const actions = recorded.body.events.map((e: { data: { action: string; principal: string; target: { group?: string } } }) => e.data).filter((d: { target: { group?: string } }) => d.target.group === group);
    expect(actions.map((d: { action: string; principal: string }) => `${d.principal}:${d.action}`)).toEqual(['alice:dead_letters.requeue', 'alice:dead_letters.purge']);
  });

  it('shows, seeks and deletes groups', async () => {
    const group = 'alice/seek';
    const before = await ingest(relay);
    await relay.log.createGroup(group, { from: 'now' });
    expect((await api(relay, 'GET', `/groups/${enc(group)}`)).body).toMatchObject({ group, pending: 0, deadLettered: 0 });
    expect((await api(relay, 'GET', `/groups/${enc(group)}`, undefined, keys.bob)).status).toBe(404);
    expect((await api(relay, 'GET', '/groups', undefined, keys.bob)).body.groups.map((g: { group: string }) => g.group)).not.toContain(group);
    expect((await api(relay, 'POST', `/groups/${enc(group)}/seek`, { to: 'start' }, keys.bob)).status).toBe(403);
    const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
    const sought = await api(relay, 'POST', `/groups/${enc(group)}/seek`, { to: hourAgo });
    expect(sought.status).toBe(200);
    expect(sought.body.pending).toBeGreaterThan(0);
    expect((await relay.log.claim(group, { limit: 100 })).map((e) => e.id)).toContain(before);
    expect((await api(relay, 'POST', `/groups/${enc(group)}/seek`, { to: 'now' })).body).toMatchObject({ pending: 0 });
    expect(await api(relay, 'POST', `/groups/${enc(group)}/seek`, { to: 'later' })).toMatchObject({ status: 400, body: { error: 'invalid_position' } });
    expect((await api(relay, 'DELETE', `/groups/${enc(group)}`)).body).toEqual({ group, deleted: true });
    expect((await api(relay, 'GET', `/groups/${enc(group)}`)).status).toBe(404);
    expect((await api(relay, 'DELETE', `/groups/${enc(group)}`)).status).toBe(404);
  });

  it('replays events to a group and to a webhook subscription', async () => {
    const group = 'alice/replay';
    await relay.log.createGroup(group, { from: 'now' });
    const id = await ingest(relay);
    const [claimed] = await relay.log.claim(group);
    await relay.log.ack(group, [claimed!.id]);
    expect((await api(relay, 'POST', '/replay', { group, ids: [id] })).body).toEqual({ group, replayed: [id] });
    expect((await relay.log.claim(group, { filter: WEBHOOKS })).map((e) => e.id)).toEqual([id]);
    expect(await api(relay, 'POST', '/replay', { group, ids: [id], after: id })).toMatchObject({ status: 400 });
    expect(await api(relay, 'POST', '/replay', { group, ids: ['01ARZ3NDEKTSV4RRFFQ69G5FAV'] })).toMatchObject({ status: 404, body: { error: 'unknown_event' } });

    const receiver = await new CallbackReceiver().start();
    try {
      const { result } = await subscribeTo(relay, receiver, { name: 'order.shipped' });
      const shipped = [await ingest(relay, { type: 'order.shipped' }), await ingest(relay, { type: 'order.shipped' })];
      await receiver.deliveries.until(() => receiver.accepted().length === 2, 'both deliveries');
      const replayed = await api(relay, 'POST', '/replay', { subscription: result!.id, ids: [shipped[0]] });
      expect(replayed.status).toBe(200);
      await receiver.deliveries.until((items) => items.filter((d) => d.body.eventId !== undefined && d.status === 200).length === 4, 'both delivered again');
      const order = receiver.deliveries.items.filter((d) => d.body.eventId !== undefined).map((d) => d.body.eventId);
      expect(order).toEqual([...shipped, ...shipped]);
    } finally {
      await receiver.stop();
    }
  });
});
