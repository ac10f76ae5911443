import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/app.js';
import { type Agent, connectLegacyAgent, connectModernAgent, ingest, keys, startMcpRelay, toolOutcome } from '../support/mcp-clients.js';
import { metricKey, scrape } from '../support/observed-relay.js';

const UPDATED = 'notifications/resources/updated';
const auth = { authorization: `Bearer ${keys.alice}` };

function claim(agent: Agent<{ callTool: (request: { name: string; arguments: Record<string, unknown> }) => Promise<unknown> }>, group: string, leaseMs = 60_000) {
  return agent.client.callTool({ name: 'check_pending_events', arguments: { group, leaseMs } }).then(toolOutcome);
}

const updatedUris = (agent: Agent<unknown>) => agent.received(UPDATED).map((n) => n.params?.uri as string);

async function updatesSent(relay: Relay): Promise<{ legacy: number; modern: number }> {
  const m = await scrape(relay, auth);
  return {
    legacy: m.get(metricKey('relay_resource_updates_total', { era: '2025-11-25' })) ?? 0,
    modern: m.get(metricKey('relay_resource_updates_total', { era: '2026-07-28' })) ?? 0,
  };
}

describe('a commit among many consumer groups', () => {
  let relay: Relay;
  let agents: Agent<any>[];
  beforeEach(async () => {
    relay = await startMcpRelay();
    agents = [];
  });
  afterEach(async () => {
    for (const agent of agents) await agent.close();
    await relay.close();
  });

  it('bounds the URIs one session or one listen stream may watch, naming the limit', async () => {
    const subscriber = await connectLegacyAgent(relay);
    const listener = await connectModernAgent(relay);
    agents.push(subscriber, listener);
    for (let i = 0; i < 256; i++) await subscriber.client.subscribeResource({ uri: `customer://cus_${i}/context` });
    // Subscribing again to a URI already watched is not a new subscription.
    await subscriber.client.subscribeResource({ uri: 'customer://cus_0/context' });
    await expect(subscriber.client.subscribeResource({ uri: 'customer://cus_256/context' })).rejects.toMatchObject({ code: -32013, data: { limit: 'subscriptions', max: 256 } });
    await subscriber.client.unsubscribeResource({ uri: 'customer://cus_1/context' });
    await subscriber.client.subscribeResource({ uri: 'customer://cus_256/context' });

    const many = Array.from({ length: 257 }, (_, i) => `customer://cus_${i}/context`);
    await expect(listener.client.listen({ resourceSubscriptions: many } as never)).rejects.toMatchObject({ code: -32013, data: { limit: 'subscriptions', max: 256 } });
    const listen = await listener.client.listen({ resourceSubscriptions: many.slice(0, 256) } as never);
    await listen.close();
  });

  it('notifies only the URIs someone listens to, one notification per listener, in both eras', async () => {
    const worker = await connectModernAgent(relay);
    const subscriber = await connectLegacyAgent(relay);
    const other = await connectLegacyAgent(relay);
    const idle = await connectLegacyAgent(relay);
    const listener = await connectModernAgent(relay, { key: keys.bob });
    agents.push(worker, subscriber, other, idle, listener);
    // 200 groups known to the relay: a commit must not cost one notification attempt each.
    for (let i = 0; i < 200; i++) expect((await claim(worker, `alice/g${i}`)).isError).toBe(false);
    await subscriber.client.subscribeResource({ uri: 'events://alice/g7' });
    await other.client.subscribeResource({ uri: 'events://alice/never-claimed' });
    // No one ever claimed from this group: its listener hears of commits all the same.
    const listen = await listener.client.listen({ resourceSubscriptions: ['events://bob/never-claimed'] } as never);
    const before = await updatesSent(relay);

    await ingest(relay);
    await subscriber.notifications.until((n) => n.some((x) => x.method === UPDATED), 'the subscriber to be notified');
    await other.notifications.until((n) => n.some((x) => x.method === UPDATED), 'the other subscriber to be notified');
    await listener.notifications.until((n) => n.some((x) => x.method === UPDATED), 'the listen stream to be notified');
    expect(await updatesSent(relay)).toEqual({ legacy: before.legacy + 2, modern: before.modern + 1 });
    expect(updatedUris(subscriber)).toEqual(['events://alice/g7']);
    expect(updatedUris(other)).toEqual(['events://alice/never-claimed']);
    expect(updatedUris(listener)).toEqual(['events://bob/never-claimed']);
    expect(idle.received(UPDATED)).toEqual([]);

    // Unsubscribing and closing the listen stream take them out of the index.
    await subscriber.client.unsubscribeResource({ uri: 'events://alice/g7' });
    await listen.close();
    await ingest(relay);
    await other.notifications.until((n) => n.filter((x) => x.method === UPDATED).length === 2, 'the second notification');
    expect(await updatesSent(relay)).toEqual({ legacy: before.legacy + 3, modern: before.modern + 1 });
    expect(updatedUris(subscriber)).toEqual(['events://alice/g7']);
  });
});

describe('consumer group names per principal (RELAY_MAX_GROUPS_PER_PRINCIPAL=2)', () => {
  let relay: Relay;
  let agents: Agent<any>[];
  beforeEach(async () => {
    relay = await startMcpRelay({ RELAY_MAX_GROUPS_PER_PRINCIPAL: '2' });
    agents = [];
  });
  afterEach(async () => {
    for (const agent of agents) await agent.close();
    await relay.close();
  });

  const statusGroups = async () => Object.keys(((await (await fetch(`${relay.url}/status`, { headers: auth })).json()) as { groups: object }).groups);

  it('refuses a third name with a tool error naming the limit, until an idle empty one is forgotten', async () => {
    const alice = await connectLegacyAgent(relay);
    const bob = await connectModernAgent(relay, { key: keys.bob });
    agents.push(alice, bob);
    const id = await ingest(relay);
    for (const group of ['alice/a', 'alice/b']) expect((await claim(alice, group)).body.events.map((e: { id: string }) => e.id)).toEqual([id]);

    const refused = await claim(alice, 'alice/c');
    expect(refused.isError).toBe(true);
    expect(refused.body).toMatchObject({ error: 'limit_reached', limit: 'groups', max: 2 });
    expect(refused.body.message).toContain('at most 2 consumer groups per principal');
    // The principal's own group is not counted, and each principal has its own bound.
    expect((await claim(alice, 'alice')).isError).toBe(false);
    expect((await claim(bob, 'bob/x')).isError).toBe(false);

    // alice/a is empty once acked, but someone listens to it: still in use.
    expect(toolOutcome(await alice.client.callTool({ name: 'ack_event', arguments: { eventId: id, group: 'alice/a' } })).isError).toBe(false);
    await alice.client.subscribeResource({ uri: 'events://alice/a' });
    expect((await claim(alice, 'alice/c')).body).toMatchObject({ error: 'limit_reached', limit: 'groups' });
    expect(await statusGroups()).toEqual(['alice', 'alice/a', 'alice/b']);

    // Idle and empty: forgotten to make room.
    await alice.client.unsubscribeResource({ uri: 'events://alice/a' });
    const admitted = await claim(alice, 'alice/c');
    expect(admitted.isError).toBe(false);
    expect(admitted.body.events.map((e: { id: string }) => e.id)).toEqual([id]);
    expect(await statusGroups()).toEqual(['alice', 'alice/b', 'alice/c']);
    // Forgetting is the registry's alone: the log kept alice/a's position, so its acked event does not come back.
    await alice.client.callTool({ name: 'ack_event', arguments: { eventId: id, group: 'alice/c' } });
    expect((await claim(alice, 'alice/a')).body).toEqual({ events: [], remaining: 0 });
    expect(await statusGroups()).toEqual(['alice', 'alice/a', 'alice/b']);
  });
});
