import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Relay } from '../../src/app.js';
import {
  connectLegacyAgent,
  eventually,
  ingest,
  keys,
  logIdsAfter,
  rawLegacySession,
  rpcOf,
  startMcpRelay,
  toolOutcome,
  watchedFetch,
  type Agent,
} from '../support/mcp-clients.js';

type LegacyAgent = Awaited<ReturnType<typeof connectLegacyAgent>>;
const PUSH_ID = /^(s\d+)\.([0-9A-Z]{26})$/;
const SUBSCRIPTION_ID = 'io.modelcontextprotocol/subscriptionId';

function call(agent: LegacyAgent, name: string, args: Record<string, unknown> = {}) {
  return agent.client.callTool({ name, arguments: args }).then(toolOutcome);
}

/** Starts `events/stream` through the SDK; the request stays pending while events are pushed. */
function streamThroughSdk(agent: Agent<LegacyAgent['client']>, params: Record<string, unknown>, onresumptiontoken?: (token: string) => void) {
  const abort = new AbortController();
  const options = { timeout: 60_000, signal: abort.signal, ...(onresumptiontoken ? { onresumptiontoken } : {}) };
  const pending = agent.client.request({ method: 'events/stream', params: { name: 'cx_events', ...params } }, z.object({}).passthrough(), options).catch(() => undefined);
  return { stop: () => abort.abort(), pending };
}

const eventCursors = (agent: Agent<unknown>) => agent.received('notifications/events/event').map((n) => n.params?.cursor as string);

describe('a 2025-11-25 agent (v1 SDK client)', () => {
  let relay: Relay;
  let alice: LegacyAgent;
  beforeEach(async () => {
    relay = await startMcpRelay({ RELAY_LEASE: '1s' });
    alice = await connectLegacyAgent(relay);
  });
  afterEach(async () => {
    await alice.close();
    await relay.close();
  });

  it('leases pending events with check_pending_events and acknowledges them once with ack_event', async () => {
    const first = await ingest(relay);
    const second = await ingest(relay);
    const one = await call(alice, 'check_pending_events', { limit: 1, leaseMs: 60_000 });
    expect(one.isError).toBe(false);
    expect(one.body.events.map((e: { id: string; deliveryCount: number }) => [e.id, e.deliveryCount])).toEqual([[first, 1]]);
    expect(one.body.remaining).toBe(1);
    const rest = await call(alice, 'check_pending_events', { leaseMs: 60_000 });
    expect(rest.body.events.map((e: { id: string }) => e.id)).toEqual([second]);
    expect(rest.body.remaining).toBe(0);

    expect(await call(alice, 'ack_event', { eventId: first })).toEqual({ isError: false, body: { acknowledged: true, count: 1 } });
    const again = await call(alice, 'ack_event', { eventId: first });
    expect(again.isError).toBe(true);
    expect(again.body.error).toBe('already_acked');
    expect(await call(alice, 'ack_event', { eventIds: [second] })).toEqual({ isError: false, body: { acknowledged: true, count: 1 } });
    expect((await call(alice, 'check_pending_events')).body).toEqual({ events: [], remaining: 0 });
  });

  it('answers an ack of an id the log never held with a tool error, not a crash', async () => {
    const outcome = await call(alice, 'ack_event', { eventId: '01J0000000000000000000000Z' });
    expect(outcome.isError).toBe(true);
    expect(outcome.body.error).toBe('unknown_event');
    expect((await call(alice, 'check_pending_events')).isError).toBe(false);
  });

  it('redelivers an event whose lease expired, with deliveryCount 2', async () => {
    const id = await ingest(relay);
    const first = await call(alice, 'check_pending_events');
    expect(first.body.events.map((e: { id: string; deliveryCount: number }) => [e.id, e.deliveryCount])).toEqual([[id, 1]]);
    const redelivered = await eventually(async () => {
      const { body } = await call(alice, 'check_pending_events');
      return body.events.length > 0 ? body.events : undefined;
    }, 'redelivery after the 1 s lease');
    expect(redelivered.map((e: { id: string; deliveryCount: number }) => [e.id, e.deliveryCount])).toEqual([[id, 2]]);
  });

  it("refuses another principal's consumer group and allows the caller's sub-groups", async () => {
    const id = await ingest(relay);
    for (const [tool, args] of [
      ['check_pending_events', { group: 'bob' }],
      ['ack_event', { eventId: id, group: 'bob' }],
      ['check_pending_events', { group: 'bobby/x' }],
    ] as const) {
      const outcome = await call(alice, tool, args);
      expect(outcome.isError).toBe(true);
      expect(outcome.body.error).toBe('forbidden');
    }
    const sub = await call(alice, 'check_pending_events', { group: 'alice/sub', leaseMs: 60_000 });
    expect(sub.body.events.map((e: { id: string }) => e.id)).toEqual([id]);
    expect((await call(alice, 'ack_event', { eventId: id, group: 'alice/sub' })).isError).toBe(false);
  });

  it('sends notifications/resources/updated to a session subscribed to events://alice when a webhook arrives', async () => {
    await alice.client.subscribeResource({ uri: 'events://alice' });
    await ingest(relay);
    await alice.notifications.until((n) => n.some((x) => x.method === 'notifications/resources/updated'), 'resources/updated');
    expect(alice.received('notifications/resources/updated')[0]!.params).toMatchObject({ uri: 'events://alice' });
    const read = await alice.client.readResource({ uri: 'events://alice' });
    expect(JSON.parse((read.contents[0] as { text: string }).text)).toMatchObject({ group: 'alice', pending: 1 });
  });

  it("refuses a subscription to another principal's queue with -32012 and allows the caller's sub-groups", async () => {
    await expect(alice.client.subscribeResource({ uri: 'events://bob' })).rejects.toMatchObject({ code: -32012 });
    await expect(alice.client.subscribeResource({ uri: 'events://alice/sub' })).resolves.toEqual({});
  });

  it('pushes events over events/stream in log order after notifications/events/active', async () => {
    const stream = streamThroughSdk(alice, { cursor: null });
    await alice.notifications.until((n) => n.some((x) => x.method === 'notifications/events/active'), 'notifications/events/active');
    const [active] = alice.received('notifications/events/active');
    const sent = [await ingest(relay), await ingest(relay, { type: 'order.delayed' }), await ingest(relay)];
    await alice.notifications.until(() => eventCursors(alice).length >= 3, 'three pushed events');
    expect(eventCursors(alice)).toEqual(sent);
    expect(eventCursors(alice)).toEqual(await logIdsAfter(relay, active!.params!.cursor));
    const [event] = alice.received('notifications/events/event');
    expect(event!.params).toMatchObject({ name: 'cx_events', data: { id: sent[0], type: 'payment.failed', source: 'standard' } });
    stream.stop();
  });

  it('labels each pushed frame with the SSE id <tag>.<ULID> of its cursor, and tags the subscription id', async () => {
    const session = await rawLegacySession(relay);
    const stream = await session.stream({ cursor: null });
    const priming = await stream.next((f) => f.data === '', 'the priming event');
    expect(priming.id).toMatch(PUSH_ID);
    expect(stream.retries).toEqual([1000]);
    const { message: active } = await stream.nextRpc('notifications/events/active');
    const [, tag, start] = PUSH_ID.exec(priming.id!)!;
    expect(active.params).toMatchObject({ cursor: start, truncated: false, _meta: { [SUBSCRIPTION_ID]: stream.requestId } });
    const sent = [await ingest(relay), await ingest(relay)];
    const frames = await stream.untilEvents(2);
    expect(frames.map((f) => f.id)).toEqual(sent.map((id) => `${tag}.${id}`));
    expect(frames.map((f) => rpcOf(f).params!.cursor)).toEqual(sent);
    expect(frames.every((f) => rpcOf(f).params!._meta[SUBSCRIPTION_ID] === stream.requestId)).toBe(true);
    stream.close();
  });

  it('does not cancel a push stream when its client disconnects: a GET with Last-Event-ID resumes it', async () => {
    const session = await rawLegacySession(relay);
    const stream = await session.stream({ cursor: null });
    const seen = await ingest(relay);
    const [frame] = await stream.untilEvents(1);
    stream.close();
    await stream.done;
    const missed = [await ingest(relay), await ingest(relay)];
    const resumed = await session.resume(frame!.id!);
    expect((await resumed.untilEvents(2)).map((f) => rpcOf(f).params!.cursor)).toEqual(missed);
    expect(await logIdsAfter(relay, seen)).toEqual(missed);
    resumed.close();
  });

  it('advertises the events capability, mirrored under experimental, in its initialize result', () => {
    expect(alice.client.getServerCapabilities()).toMatchObject({
      tools: expect.any(Object),
      resources: { subscribe: true, listChanged: true },
      experimental: { events: { listChanged: true } },
    });
  });

  it('refuses events/stream on a session of a client that opened without the events capability', async () => {
    const session = await rawLegacySession(relay, { capabilities: {} });
    const answer = await session.post({ id: 7, method: 'events/stream', params: { name: 'cx_events', cursor: null } });
    expect(rpcOf({ data: await answer.text() })).toMatchObject({ id: 7, error: { code: -32014, data: { feature: 'events' } } });
  });

  it('keeps the stream of bob apart from the session of alice', async () => {
    const bob = await connectLegacyAgent(relay, { key: keys.bob });
    const id = await ingest(relay);
    expect((await call(bob, 'check_pending_events')).body.events.map((e: { id: string }) => e.id)).toEqual([id]);
    expect((await call(alice, 'check_pending_events')).body.events.map((e: { id: string }) => e.id)).toEqual([id]);
    await bob.close();
  });
});

describe('resuming a legacy push stream the server rotated (RELAY_STREAM_LIFETIME=300ms)', () => {
  let relay: Relay;
  beforeEach(async () => {
    relay = await startMcpRelay({ RELAY_STREAM_LIFETIME: '300ms' });
  });
  afterEach(() => relay.close());

  it('replays exactly the events committed while disconnected when the client GETs with Last-Event-ID', async () => {
    const session = await rawLegacySession(relay);
    const first = await session.stream({ cursor: null });
    const start = (await first.nextRpc('notifications/events/active')).message.params!.cursor as string;
    const e1 = await ingest(relay);
    await first.done;
    expect(first.frames.items.some((f) => f.data !== '' && rpcOf(f).id !== undefined)).toBe(false);
    const before = first.eventFrames();
    const lastId = first.frames.items.filter((f) => f.id !== undefined).at(-1)!.id!;
    const [, tag] = PUSH_ID.exec(lastId)!;

    const missed = [await ingest(relay), await ingest(relay)];
    const resumed = await session.resume(lastId);
    const expected = [e1, ...missed].slice(before.length);
    const frames = await resumed.untilEvents(expected.length);
    expect(frames.map((f) => f.id)).toEqual(expected.map((id) => `${tag}.${id}`));
    expect(resumed.frames.items.some((f) => f.data !== '' && rpcOf(f).method === 'notifications/events/active')).toBe(false);

    await resumed.done;
    const last = await ingest(relay);
    const again = await session.resume(frames.at(-1)!.id!);
    const [lastFrame] = await again.untilEvents(1);
    expect(lastFrame!.id).toBe(`${tag}.${last}`);
    const delivered = [...before, ...frames, lastFrame!].map((f) => rpcOf(f).params!.cursor);
    expect(delivered).toEqual([e1, ...missed, last]);
    expect(delivered).toEqual(await logIdsAfter(relay, start));
    again.close();
  });

  it('lets the v1 SDK resume on its own: no event lost, none twice', async () => {
    const watch = watchedFetch();
    const alice = await connectLegacyAgent(relay, { fetch: watch.fetch });
    const tokens: string[] = [];
    const stream = streamThroughSdk(alice, { cursor: null }, (token) => tokens.push(token));
    await alice.notifications.until((n) => n.some((x) => x.method === 'notifications/events/active'), 'notifications/events/active');
    const start = alice.received('notifications/events/active')[0]!.params!.cursor as string;
    const sent = [await ingest(relay)];
    await watch.streamEnds.until((ends) => ends.includes('events/stream'), 'the end of the rotated POST stream');
    sent.push(await ingest(relay), await ingest(relay));
    await alice.notifications.until(() => eventCursors(alice).length >= 3, 'the events missed while disconnected');
    const resumedFrom = watch.resumes.filter((id): id is string => id !== null);
    expect(resumedFrom.length).toBeGreaterThan(0);
    expect(resumedFrom.every((id) => PUSH_ID.test(id) && tokens.includes(id))).toBe(true);
    sent.push(await ingest(relay), await ingest(relay));
    await alice.notifications.until(() => eventCursors(alice).length >= 5, 'the events after the resume');
    expect(eventCursors(alice)).toEqual(sent);
    expect(eventCursors(alice)).toEqual(await logIdsAfter(relay, start));
    stream.stop();
    await alice.close();
  });
});
