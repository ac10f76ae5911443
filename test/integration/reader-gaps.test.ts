import type { EventSourceMessage } from 'eventsource-parser';
import { afterEach, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/app.js';
import { LOG_START } from '../../src/events/ulid.js';
import { newEvent } from '../support/events.js';
import { keys, LEGACY_VERSION, MODERN_VERSION, modernStream, rawLegacySession, rpcOf, startMcpRelay } from '../support/mcp-clients.js';
import { openPausedSse } from '../support/paused-sse.js';

/**
 * Readers are never skipped past an event silently (issue: 2,500 events, a reader that stops
 * reading, retention down to 100, and the reader used to get 1–1000 then 2401–2500 with no
 * word of the 1,400 between). Over real HTTP, for each push era and for /feed.
 */

/** What a reader saw: event ids in order, and each gap as where delivery resumed. */
interface Seen {
  events: string[];
  gaps: string[];
}

type Reading = (frame: EventSourceMessage, seen: Seen) => void;

const readPush: Reading = (frame, seen) => {
  if (frame.data === '') return;
  const message = rpcOf(frame);
  if (message.method === 'notifications/events/event') seen.events.push(message.params!.cursor as string);
  if (message.method === 'notifications/events/active' && message.params!.truncated === true) seen.gaps.push(message.params!.cursor as string);
};

const readFeed: Reading = (frame, seen) => {
  if (frame.event === 'truncated') seen.gaps.push((JSON.parse(frame.data) as { resumedAt: string }).resumedAt);
  else if (frame.event !== 'heartbeat') seen.events.push(frame.id!);
};

const isEvent = (frame: EventSourceMessage) =>
  frame.event === 'payment.failed' || (frame.data !== '' && frame.event === 'message' && rpcOf(frame).method === 'notifications/events/event');

/** A POST of `events/stream` to /mcp, with the headers both eras send. */
function streamRequest(headers: Record<string, string>, params: Record<string, unknown>) {
  return {
    method: 'POST' as const,
    path: '/mcp',
    headers: { authorization: `Bearer ${keys.alice}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'events/stream', params: { name: 'cx_events', ...params } }),
  };
}

const modernStreamRequest = (params: Record<string, unknown>) =>
  streamRequest(
    { 'mcp-protocol-version': MODERN_VERSION, 'mcp-method': 'events/stream' },
    { ...params, _meta: { 'io.modelcontextprotocol/protocolVersion': MODERN_VERSION, 'io.modelcontextprotocol/clientCapabilities': { events: {} } } },
  );

async function legacyStreamRequest(relay: Relay, params: Record<string, unknown>) {
  const session = await rawLegacySession(relay);
  return streamRequest({ 'mcp-session-id': session.id, 'mcp-protocol-version': LEGACY_VERSION }, params);
}

const feedRequest = (lastEventId: string) => ({ method: 'GET' as const, path: '/feed', headers: { authorization: `Bearer ${keys.alice}`, 'last-event-id': lastEventId } });

describe('a reader that paused while retention trimmed past it', () => {
  let relay: Relay | undefined;
  afterEach(async () => {
    await relay?.close();
    relay = undefined;
  });

  const readers: [string, Reading, (relay: Relay) => Promise<Parameters<typeof openPausedSse>[1]>][] = [
    ['events/stream (2026-07-28)', readPush, async () => modernStreamRequest({ cursor: LOG_START })],
    ['events/stream (2025-11-25)', readPush, (r) => legacyStreamRequest(r, { cursor: LOG_START })],
    ['/feed', readFeed, async () => feedRequest(LOG_START)],
  ];

  it.each(readers)('%s: gets every event or a gap naming exactly the trimmed range', async (_reader, reading, requestFor) => {
    relay = await startMcpRelay();
    // 3,000 events of about 8 KB: far more than the socket buffers of a reader that stopped reading.
    const ids: string[] = [];
    for (let batch = 0; batch < 6; batch++) {
      const results = await relay.log.append(Array.from({ length: 500 }, () => newEvent({ data: { pad: 'x'.repeat(8000) } })));
      ids.push(...results.map((r) => r.id));
    }
    const stream = await openPausedSse(relay, await requestFor(relay));
    await stream.readUntil(isEvent, 'the first event');
    await relay.log.trim({ maxEvents: 100 });
    stream.resume();
    const seen: Seen = { events: [], gaps: [] };
    await stream.frames.until((frames) => frames.some((f) => (f.id ?? '').endsWith(ids.at(-1)!)), 'the newest event');
    for (const frame of stream.frames.items) reading(frame, seen);
    stream.close();

    // What arrived is a prefix read before the trim, one gap up to the last trimmed id, then the rest.
    expect(seen.gaps).toEqual([ids[2899]]);
    const prefix = seen.events.length - 100;
    expect(prefix).toBeGreaterThan(0);
    expect(prefix).toBeLessThan(2900);
    expect(seen.events).toEqual([...ids.slice(0, prefix), ...ids.slice(2900)]);
  });
});

describe('the position a filtered reader reports', () => {
  let relay: Relay | undefined;
  afterEach(async () => {
    await relay?.close();
    relay = undefined;
  });

  it('moves the heartbeat cursor to the head past 50 non-matching events, so a reconnect after retention is not truncated', async () => {
    relay = await startMcpRelay({ RELAY_HEARTBEAT: '100ms' });
    const [match] = await relay.log.append([newEvent({ type: 'payment.failed' })]);
    const stream = await modernStream(relay, { cursor: match!.id, arguments: { types: ['payment.failed'] } });
    const skipped = await relay.log.append(Array.from({ length: 50 }, () => newEvent({ type: 'order.shipped' })));
    const head = skipped.at(-1)!.id;
    const beat = await stream.next((f) => f.data !== '' && rpcOf(f).method === 'notifications/events/heartbeat' && rpcOf(f).params!.cursor === head, 'a heartbeat at the head');
    stream.close();
    await relay.log.trim({ maxEvents: 10 });
    const again = await modernStream(relay, { cursor: rpcOf(beat).params!.cursor, arguments: { types: ['payment.failed'] } });
    const { message } = await again.nextRpc('notifications/events/active');
    expect(message.params).toMatchObject({ cursor: head, truncated: false });
    again.close();
  });

  it('carries the position as the SSE id of a 2025-11-25 heartbeat, so Last-Event-ID resumes there', async () => {
    relay = await startMcpRelay({ RELAY_HEARTBEAT: '100ms' });
    const [match] = await relay.log.append([newEvent({ type: 'payment.failed' })]);
    const session = await rawLegacySession(relay);
    const stream = await session.stream({ cursor: match!.id, arguments: { types: ['payment.failed'] } });
    const skipped = await relay.log.append(Array.from({ length: 50 }, () => newEvent({ type: 'order.shipped' })));
    const head = skipped.at(-1)!.id;
    const beat = await stream.next((f) => f.data !== '' && rpcOf(f).method === 'notifications/events/heartbeat' && rpcOf(f).params!.cursor === head, 'a heartbeat at the head');
    expect(beat.id).toMatch(new RegExp(`^s\\d+\\.${head}$`));
    stream.close();
  });

  it('sends /feed readers the position as a heartbeat with an id, so Last-Event-ID resumes at the head', async () => {
    relay = await startMcpRelay({ RELAY_HEARTBEAT: '100ms' });
    const [match] = await relay.log.append([newEvent({ type: 'payment.failed' })]);
    const stream = await openPausedSse(relay, { ...feedRequest(match!.id), path: '/feed?types=payment.failed' });
    const skipped = await relay.log.append(Array.from({ length: 50 }, () => newEvent({ type: 'order.shipped' })));
    const head = skipped.at(-1)!.id;
    await stream.readUntil((f) => f.event === 'heartbeat' && f.id === head, 'a heartbeat at the head');
    const beat = stream.frames.items.find((f) => f.event === 'heartbeat')!;
    expect(JSON.parse(beat.data)).toEqual({ cursor: head });
    stream.close();
  });
});
