import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Relay } from '../../src/app.js';
import { catalogueTypes } from '../../src/events/catalogue.js';
import {
  connectModernAgent,
  ingest,
  logIdsAfter,
  MODERN_VERSION,
  modernPost,
  modernStream,
  readRpc,
  rpcOf,
  startMcpRelay,
  toolOutcome,
} from '../support/mcp-clients.js';

type ModernAgent = Awaited<ReturnType<typeof connectModernAgent>>;
const ULID = /^[0-9A-Z]{26}$/;
const SUBSCRIPTION_ID = 'io.modelcontextprotocol/subscriptionId';
const UNKNOWN_CURSOR = '01J0000000000000000000000Z';

function request(agent: ModernAgent, method: string, params: Record<string, unknown>, signal?: AbortSignal, timeout = 60_000) {
  return agent.client.request({ method, params } as never, z.looseObject({}), { timeout, ...(signal ? { signal } : {}) }) as Promise<Record<string, any>>;
}

/** A request expected to be refused at once: a stream opened by mistake fails the test quickly. */
const refused = (agent: ModernAgent, method: string, params: Record<string, unknown>) => request(agent, method, params, undefined, 10_000);

const cursorsOf = (agent: ModernAgent) => agent.received('notifications/events/event').map((n) => n.params?.cursor as string);

describe('a 2026-07-28 agent (v2 SDK client)', () => {
  let relay: Relay;
  let alice: ModernAgent;
  beforeEach(async () => {
    relay = await startMcpRelay();
    alice = await connectModernAgent(relay);
  });
  afterEach(async () => {
    await alice.close();
    await relay.close();
  });

  it('negotiates the modern era with server/discover, which advertises tools, resources and the events capability', async () => {
    expect(alice.client.getProtocolEra()).toBe('modern');
    expect(alice.client.getNegotiatedProtocolVersion()).toBe(MODERN_VERSION);
    const discover = await readRpc(await modernPost(relay, 'server/discover', {}));
    expect(discover.result).toMatchObject({
      supportedVersions: expect.arrayContaining([MODERN_VERSION]),
      capabilities: {
        tools: expect.any(Object),
        resources: { subscribe: true, listChanged: true },
        events: { listChanged: true },
        experimental: { events: { listChanged: true } },
        extensions: { 'io.modelcontextprotocol/events': { listChanged: true } },
      },
    });
  });

  it('leases and acknowledges events with the polling tools, without a session', async () => {
    const id = await ingest(relay);
    const pending = toolOutcome(await alice.client.callTool({ name: 'check_pending_events', arguments: {} }));
    expect(pending.body.events.map((e: { id: string; deliveryCount: number }) => [e.id, e.deliveryCount])).toEqual([[id, 1]]);
    expect(toolOutcome(await alice.client.callTool({ name: 'ack_event', arguments: { eventId: id } })).body).toEqual({ acknowledged: true, count: 1 });
    const again = toolOutcome(await alice.client.callTool({ name: 'ack_event', arguments: { eventId: id } }));
    expect(again).toMatchObject({ isError: true, body: { error: 'already_acked' } });
    const foreign = toolOutcome(await alice.client.callTool({ name: 'check_pending_events', arguments: { group: 'bob' } }));
    expect(foreign).toMatchObject({ isError: true, body: { error: 'forbidden' } });
  });

  it('sends notifications/resources/updated on a subscriptions/listen stream with resourceSubscriptions after a webhook', async () => {
    const subscription = await alice.client.listen({ resourceSubscriptions: ['events://alice'] } as never);
    expect(subscription.honoredFilter).toMatchObject({ resourceSubscriptions: ['events://alice'] });
    await ingest(relay);
    await alice.notifications.until((n) => n.some((x) => x.method === 'notifications/resources/updated'), 'resources/updated');
    expect(alice.received('notifications/resources/updated')[0]!.params).toMatchObject({ uri: 'events://alice' });
    await subscription.close();
  });

  it('pushes events/stream occurrences to the v2 client in log order', async () => {
    const abort = new AbortController();
    const pending = request(alice, 'events/stream', { name: 'cx_events', cursor: null }, abort.signal).catch(() => undefined);
    await alice.notifications.until((n) => n.some((x) => x.method === 'notifications/events/active'), 'notifications/events/active');
    const start = alice.received('notifications/events/active')[0]!.params!.cursor as string;
    const sent = [await ingest(relay), await ingest(relay, { type: 'order.delayed' }), await ingest(relay)];
    await alice.notifications.until(() => cursorsOf(alice).length >= 3, 'three pushed events');
    expect(cursorsOf(alice)).toEqual(sent);
    expect(cursorsOf(alice)).toEqual(await logIdsAfter(relay, start));
    expect(alice.received('notifications/events/event')[1]!.params).toMatchObject({ name: 'cx_events', data: { id: sent[1], type: 'order.delayed' } });
    abort.abort();
    await pending;
  });

  it('labels each pushed frame with its bare ULID as SSE id and tags the subscription id', async () => {
    const stream = await modernStream(relay, { cursor: null });
    expect(stream.response.headers.get('content-type')).toContain('text/event-stream');
    const { frame: activeFrame, message: active } = await stream.nextRpc('notifications/events/active');
    expect(activeFrame.id).toBeUndefined();
    expect(active.params).toMatchObject({ truncated: false, _meta: { [SUBSCRIPTION_ID]: stream.requestId } });
    const sent = [await ingest(relay), await ingest(relay)];
    const frames = await stream.untilEvents(2);
    expect(frames.map((f) => f.id)).toEqual(sent);
    expect(frames.every((f) => ULID.test(f.id!))).toBe(true);
    expect(frames.map((f) => rpcOf(f).params!.cursor)).toEqual(sent);
    expect(frames.map((f) => rpcOf(f).params!._meta[SUBSCRIPTION_ID])).toEqual([stream.requestId, stream.requestId]);
    expect(stream.frames.items.filter((f) => f.id !== undefined && !ULID.test(f.id))).toEqual([]);
    stream.close();
  });

  it('resumes by cursor: a new events/stream from the last cursor receives exactly the events it missed', async () => {
    const first = await modernStream(relay, { cursor: null });
    const start = (await first.nextRpc('notifications/events/active')).message.params!.cursor as string;
    const seen = [await ingest(relay), await ingest(relay)];
    const frames = await first.untilEvents(2);
    first.close();
    await first.done;
    const missed = [await ingest(relay), await ingest(relay)];

    const second = await modernStream(relay, { cursor: rpcOf(frames[1]!).params!.cursor });
    const { message: active } = await second.nextRpc('notifications/events/active');
    expect(active.params).toMatchObject({ cursor: seen[1], truncated: false });
    expect((await second.untilEvents(2)).map((f) => f.id)).toEqual(missed);
    const live = await ingest(relay);
    const all = [...frames, ...(await second.untilEvents(3))].map((f) => rpcOf(f).params!.cursor);
    expect(all).toEqual([...seen, ...missed, live]);
    expect(all).toEqual(await logIdsAfter(relay, start));
    second.close();
  });

  it('announces truncated: true for a stream from a cursor the log does not hold', async () => {
    const id = await ingest(relay);
    const stream = await modernStream(relay, { cursor: UNKNOWN_CURSOR });
    expect((await stream.nextRpc('notifications/events/active')).message.params).toMatchObject({ truncated: true });
    expect((await stream.untilEvents(1)).map((f) => f.id)).toEqual([id]);
    stream.close();
  });

  it('answers events/poll with cursor: null by no events and a fresh cursor, then pages from it', async () => {
    const before = await ingest(relay);
    const fresh = await request(alice, 'events/poll', { name: 'cx_events', cursor: null });
    expect(fresh).toMatchObject({ events: [], cursor: before, hasMore: false, truncated: false });
    expect(fresh.nextPollMs).toEqual(expect.any(Number));
    const id = await ingest(relay, { customerId: 'cus_poll' });
    const page = await request(alice, 'events/poll', { name: 'cx_events', cursor: fresh.cursor });
    expect(page).toMatchObject({ cursor: id, hasMore: false, truncated: false });
    expect(page.events).toEqual([
      { eventId: expect.any(String), name: 'cx_events', timestamp: expect.any(String), data: expect.objectContaining({ id, customerId: 'cus_poll' }), cursor: id },
    ]);
    expect((await request(alice, 'events/poll', { name: 'cx_events', cursor: UNKNOWN_CURSOR })).truncated).toBe(true);
  });

  it('answers a long poll (timeoutMs) as soon as a matching webhook arrives', async () => {
    const { cursor } = await request(alice, 'events/poll', { name: 'order.delayed', cursor: null });
    const poll = request(alice, 'events/poll', { name: 'order.delayed', cursor, timeoutMs: 60_000 });
    await ingest(relay, { type: 'payment.failed' });
    const delayed = await ingest(relay, { type: 'order.delayed' });
    const answer = await poll;
    expect(answer.events.map((e: { cursor: string; name: string }) => [e.cursor, e.name])).toEqual([[delayed, 'order.delayed']]);
  });

  it('ends a long poll that saw no event with an empty page at its cursor', async () => {
    const { cursor } = await request(alice, 'events/poll', { name: 'cx_events', cursor: null });
    expect(await request(alice, 'events/poll', { name: 'cx_events', cursor, timeoutMs: 200 })).toMatchObject({ events: [], cursor, truncated: false });
  });

  it('lists cx_events and one type per normalized type with events/list, each deliverable by poll and push', async () => {
    const { events } = await request(alice, 'events/list', {});
    expect(events.map((e: { name: string }) => e.name)).toEqual(['cx_events', ...catalogueTypes]);
    for (const descriptor of events) {
      expect(descriptor).toMatchObject({ description: expect.any(String), delivery: ['poll', 'push', 'webhook'], inputSchema: expect.any(Object), payloadSchema: expect.any(Object) });
    }
  });

  it('refuses an unknown event name with -32011 and bad arguments with -32602, on poll and on stream', async () => {
    for (const method of ['events/poll', 'events/stream']) {
      await expect(refused(alice, method, { name: 'no.such.type', cursor: null })).rejects.toMatchObject({ code: -32011, data: { kind: 'event' } });
      await expect(refused(alice, method, { name: 'cx_events', cursor: 42 })).rejects.toMatchObject({ code: -32602 });
      await expect(refused(alice, method, { name: 'cx_events', cursor: null, arguments: { types: 'payment.*' } })).rejects.toMatchObject({ code: -32602 });
    }
    await expect(refused(alice, 'events/poll', { name: 'cx_events', cursor: null, maxEvents: 0 })).rejects.toMatchObject({ code: -32602 });
  });

  it('answers a read of a resource that does not exist with -32602', async () => {
    await expect(alice.client.readResource({ uri: 'events-nowhere://x' })).rejects.toMatchObject({ code: -32602 });
  });
});

describe('a modern push stream the server rotates (RELAY_STREAM_LIFETIME=300ms)', () => {
  let relay: Relay;
  beforeEach(async () => {
    relay = await startMcpRelay({ RELAY_STREAM_LIFETIME: '300ms' });
  });
  afterEach(() => relay.close());

  it('finishes with resultType "complete" and its cursor, from which a new stream continues without a gap', async () => {
    const first = await modernStream(relay, { cursor: null });
    const start = (await first.nextRpc('notifications/events/active')).message.params!.cursor as string;
    const e1 = await ingest(relay);
    const { message: end } = await first.nextRpc('response');
    await first.done;
    const before = first.eventFrames().map((f) => f.id);
    expect(end).toEqual({
      jsonrpc: '2.0',
      id: first.requestId,
      result: {
        resultType: 'complete',
        cursor: before.at(-1) ?? start,
        _meta: { 'io.modelcontextprotocol/subscriptionId': first.requestId, 'io.modelcontextprotocol/serverInfo': { name: 'mcp-event-relay', version: '0.1.0' } },
      },
    });
    const e2 = await ingest(relay);
    const second = await modernStream(relay, { cursor: end.result!.cursor });
    const after = (await second.untilEvents(2 - before.length)).map((f) => f.id);
    expect([...before, ...after]).toEqual([e1, e2]);
    expect([e1, e2]).toEqual(await logIdsAfter(relay, start));
    second.close();
  });
});

describe('a modern push stream with RELAY_HEARTBEAT=100ms', () => {
  let relay: Relay;
  beforeEach(async () => {
    relay = await startMcpRelay({ RELAY_HEARTBEAT: '100ms' });
  });
  afterEach(() => relay.close());

  it('sends notifications/events/heartbeat data frames carrying the cursor and the subscription id', async () => {
    const stream = await modernStream(relay, { cursor: null });
    const start = (await stream.nextRpc('notifications/events/active')).message.params!.cursor as string;
    const { frame, message } = await stream.nextRpc('notifications/events/heartbeat');
    expect(frame.id).toBeUndefined();
    expect(message.params).toEqual({ cursor: start, _meta: { [SUBSCRIPTION_ID]: stream.requestId } });
    const id = await ingest(relay);
    await stream.untilEvents(1);
    const atNewCursor = (f: { data: string }) => f.data !== '' && rpcOf(f).method === 'notifications/events/heartbeat' && rpcOf(f).params?.cursor === id;
    await stream.next(atNewCursor, 'a heartbeat at the cursor of the new event');
    stream.close();
  });
});
