import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/app.js';
import { ingest, modernPost, modernStream, rawLegacySession, readRpc, rpcOf, startMcpRelay } from '../support/mcp-clients.js';

/** `maxAgeMs` in these tests; the old event is committed twice as long before the young one. */
const MAX_AGE_MS = 1000;

describe('events/poll nextPollMs', () => {
  let relay: Relay;
  beforeEach(async () => {
    relay = await startMcpRelay();
  });
  afterEach(() => relay.close());

  const poll = async (params: Record<string, unknown>) => (await readRpc(await modernPost(relay, 'events/poll', { name: 'cx_events', ...params }))).result!;

  it('is 0 after a long poll that timed out: the next long poll can start at once', async () => {
    const { cursor } = await poll({ cursor: null, timeoutMs: 100 });
    expect(await poll({ cursor, timeoutMs: 100 })).toMatchObject({ events: [], cursor, hasMore: false, nextPollMs: 0 });
  });

  it('is 0 after a long poll that returned everything, and after a long poll from cursor null', async () => {
    const fresh = await poll({ cursor: null, timeoutMs: 100 });
    expect(fresh.nextPollMs).toBe(0);
    const id = await ingest(relay);
    expect(await poll({ cursor: fresh.cursor, timeoutMs: 60_000 })).toMatchObject({ cursor: id, hasMore: false, nextPollMs: 0 });
  });

  it('is 0 while more is left, and the relay’s interval after a short poll that returned everything', async () => {
    const { cursor } = await poll({ cursor: null });
    await ingest(relay);
    const last = await ingest(relay);
    let page = await poll({ cursor, maxEvents: 1 });
    expect(page).toMatchObject({ hasMore: true, nextPollMs: 0 });
    while (page.hasMore) {
      expect(page.nextPollMs).toBe(0);
      page = await poll({ cursor: page.cursor, maxEvents: 1 });
    }
    expect(page).toMatchObject({ cursor: last, hasMore: false, nextPollMs: 5000 });
  });
});

describe('maxAgeMs', () => {
  let relay: Relay;
  let start: string;
  let old: string;
  let young: string;
  beforeEach(async () => {
    relay = await startMcpRelay();
    start = (await readRpc(await modernPost(relay, 'events/poll', { name: 'cx_events', cursor: null }))).result!.cursor as string;
    old = await ingest(relay);
    await sleep(2 * MAX_AGE_MS);
    young = await ingest(relay);
  });
  afterEach(() => relay.close());

  it('starts a poll at the first event minted within maxAgeMs, and says truncated because it passed over one', async () => {
    const answer = (await readRpc(await modernPost(relay, 'events/poll', { name: 'cx_events', cursor: start, maxAgeMs: MAX_AGE_MS }))).result!;
    expect(answer).toMatchObject({ cursor: young, hasMore: false, truncated: true });
    expect(answer.events.map((e: { cursor: string }) => e.cursor)).toEqual([young]);
  });

  it('says truncated: false when nothing matching was older than maxAgeMs', async () => {
    const answer = (await readRpc(await modernPost(relay, 'events/poll', { name: 'cx_events', cursor: old, maxAgeMs: MAX_AGE_MS }))).result!;
    expect(answer).toMatchObject({ cursor: young, truncated: false });
    expect(answer.events.map((e: { cursor: string }) => e.cursor)).toEqual([young]);
  });

  it('answers at once with truncated when the events it passed over were all there was, instead of long-polling', async () => {
    const answer = (await readRpc(await modernPost(relay, 'events/poll', { name: 'cx_events', cursor: start, maxAgeMs: 1, timeoutMs: 60_000 }))).result!;
    expect(answer).toMatchObject({ events: [], cursor: young, hasMore: false, truncated: true });
  });

  it('does the same on a 2025-11-25 session', async () => {
    const session = await rawLegacySession(relay);
    const answer = (await readRpc(await session.post({ id: 5, method: 'events/poll', params: { name: 'cx_events', cursor: start, maxAgeMs: MAX_AGE_MS } }))).result!;
    expect(answer).toMatchObject({ cursor: young, truncated: true });
    expect(answer.events.map((e: { cursor: string }) => e.cursor)).toEqual([young]);
  });

  it('starts a modern push stream after the events older than maxAgeMs, announced by active with truncated: true', async () => {
    const stream = await modernStream(relay, { cursor: start, maxAgeMs: MAX_AGE_MS });
    expect((await stream.nextRpc('notifications/events/active')).message.params).toMatchObject({ cursor: old, truncated: true });
    expect((await stream.untilEvents(1)).map((f) => f.id)).toEqual([young]);
    stream.close();
  });

  it('starts a 2025-11-25 push stream the same way', async () => {
    const session = await rawLegacySession(relay);
    const stream = await session.stream({ cursor: start, maxAgeMs: MAX_AGE_MS });
    expect((await stream.nextRpc('notifications/events/active')).message.params).toMatchObject({ cursor: old, truncated: true });
    expect((await stream.untilEvents(1)).map((f) => rpcOf(f).params!.cursor)).toEqual([young]);
    stream.close();
  });

  it('announces truncated: false on a stream from a cursor with nothing older than maxAgeMs after it', async () => {
    const stream = await modernStream(relay, { cursor: old, maxAgeMs: MAX_AGE_MS });
    expect((await stream.nextRpc('notifications/events/active')).message.params).toMatchObject({ cursor: old, truncated: false });
    expect((await stream.untilEvents(1)).map((f) => f.id)).toEqual([young]);
    stream.close();
  });
});
