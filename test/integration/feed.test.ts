import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp, type HttpParts, type Relay } from '../../src/app.js';
import { openBackend } from '../../src/backend.js';
import { loadConfig } from '../../src/config.js';
import { ulidFloor } from '../../src/events/ulid.js';
import type { EventLog } from '../../src/log/event-log.js';
import { createLogger } from '../../src/observe/logger.js';
import { newEvent } from '../support/events.js';
import { startTestRelay } from '../support/relay.js';
import { Inbox } from '../support/sse-reader.js';

/** A `GET /feed` response parsed with eventsource-parser as its bytes arrive. */
class FeedReader {
  readonly frames = new Inbox<EventSourceMessage>();
  readonly comments = new Inbox<string>();
  readonly retries: number[] = [];
  readonly done: Promise<void>;

  constructor(
    readonly response: Response,
    private readonly abort: AbortController,
  ) {
    const parser = createParser({
      onEvent: (frame) => this.frames.push(frame),
      onRetry: (ms) => this.retries.push(ms),
      onComment: (comment) => this.comments.push(comment),
    });
    this.done = (async () => {
      const decoder = new TextDecoder();
      try {
        for await (const chunk of response.body!) parser.feed(decoder.decode(chunk, { stream: true }));
      } catch {
        // The relay or the test cut the connection: the feed has ended either way.
      } finally {
        this.frames.end();
        this.comments.end();
      }
    })();
  }

  /** Event frames (those with an id) until `count` have arrived. */
  async events(count: number): Promise<EventSourceMessage[]> {
    const items = await this.frames.until((all) => all.filter((f) => f.id !== undefined).length >= count, `${count} event frames`);
    return items.filter((f) => f.id !== undefined);
  }

  close(): void {
    this.abort.abort();
  }
}

async function openFeed(base: string, query = '', headers: Record<string, string> = {}): Promise<FeedReader> {
  const abort = new AbortController();
  const res = await fetch(`${base}/feed${query}`, { headers, signal: abort.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  return new FeedReader(res, abort);
}

/** Polls a condition the relay reaches on its own (a socket closing), up to a bound. */
async function eventually(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 300 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  if (!check()) throw new Error(`never: ${what}`);
}

describe('GET /feed', () => {
  let relay: Relay;
  const readers: FeedReader[] = [];
  const open = async (query?: string, headers?: Record<string, string>) => {
    const reader = await openFeed(relay.url, query, headers);
    readers.push(reader);
    return reader;
  };
  beforeAll(async () => {
    relay = await startTestRelay({ RELAY_HEARTBEAT: '100ms' });
  });
  afterEach(() => {
    for (const reader of readers.splice(0)) reader.close();
  });
  afterAll(() => relay.close());

  it('streams each new event as a frame: id = ULID, event = type, data = the event JSON', async () => {
    const feed = await open();
    expect(feed.response.headers.get('x-accel-buffering')).toBe('no');
    expect(feed.response.headers.get('cache-control')).toMatch(/no-cache/);
    const { event } = await relay.log.append(newEvent({ type: 'order.shipped', source: 'shopify', subject: 'order:1' }));
    const [frame] = await feed.events(1);
    expect(frame).toMatchObject({ id: event!.id, event: 'order.shipped' });
    expect(JSON.parse(frame!.data)).toEqual(event);
    expect(feed.retries).toEqual([2000]);
  });

  it('sends only events matching types, sources and subjects (globs included)', async () => {
    const from = await relay.log.head();
    const results = await relay.log.append([
      newEvent({ type: 'payment.failed', source: 'stripe', subject: 'customer:cus_1' }),
      newEvent({ type: 'payment.succeeded', source: 'stripe', subject: 'customer:cus_2' }),
      newEvent({ type: 'order.shipped', source: 'shopify', subject: 'customer:cus_1' }),
      newEvent({ type: 'payment.failed', source: 'standard', subject: 'customer:cus_1' }),
      newEvent({ type: 'refund.created', source: 'stripe', subject: 'customer:cus_1' }),
    ]);
    const ids = results.map((r) => r.id);
    const feed = await open(`?types=payment.*,refund.created&sources=stripe&subjects=customer:cus_1&lastEventId=${from}`);
    const marker = await relay.log.append(newEvent({ type: 'refund.created', source: 'stripe', subject: 'customer:cus_1' }));
    const frames = await feed.events(3);
    expect(frames.map((f) => f.id)).toEqual([ids[0], ids[4], marker.id]);
  });

  it('replays exactly the events after Last-Event-ID, then continues live', async () => {
    const [a, b, c] = await relay.log.append([newEvent(), newEvent(), newEvent()]);
    const feed = await open('', { 'last-event-id': a!.id });
    const later = await relay.log.append([newEvent(), newEvent()]);
    const frames = await feed.events(4);
    expect(frames.map((f) => f.id)).toEqual([b!.id, c!.id, ...later.map((r) => r.id)]);
    expect(frames.map((f) => f.id).join()).toBe(await idsAfter(relay.log, a!.id));
  });

  it('replays after the lastEventId query, and prefers the header a reconnecting browser sends', async () => {
    const [a, b, c] = await relay.log.append([newEvent(), newEvent(), newEvent()]);
    const byQuery = await open(`?lastEventId=${a!.id}`);
    expect((await byQuery.events(2)).map((f) => f.id)).toEqual([b!.id, c!.id]);
    const both = await open(`?lastEventId=${a!.id}`, { 'last-event-id': b!.id });
    expect((await both.events(1)).map((f) => f.id)).toEqual([c!.id]);
    const head = await relay.log.append(newEvent());
    expect((await both.events(2)).map((f) => f.id)).toEqual([c!.id, head.id]);
  });

  it('has no gap and no duplicate at the seam while events are appended during the replay', async () => {
    const start = (await relay.log.append(newEvent())).id;
    await relay.log.append(Array.from({ length: 1200 }, () => newEvent()));
    const writer = (async () => {
      for (let i = 0; i < 40; i++) {
        await relay.log.append(Array.from({ length: 5 }, () => newEvent()));
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const feed = await open('', { 'last-event-id': start });
    await writer;
    const frames = await feed.events(1400);
    expect(frames.map((f) => f.id).join()).toBe(await idsAfter(relay.log, start));
  });

  it('sends ":" keep-alive comments every RELAY_HEARTBEAT while idle', async () => {
    const feed = await open();
    const comments = await feed.comments.until((all) => all.length >= 2, 'two keep-alive comments');
    expect(comments.slice(0, 2)).toEqual(['keep-alive', 'keep-alive']);
  });

  it('announces a cursor older than retention with a truncated frame, then reads from the oldest retained event', async () => {
    const trimmed = await startTestRelay();
    try {
      const appended = await trimmed.log.append(Array.from({ length: 5 }, () => newEvent()));
      await trimmed.log.trim({ maxEvents: 2 });
      const feed = await openFeed(trimmed.url, '', { 'last-event-id': appended[0]!.id });
      readers.push(feed);
      const frames = await feed.frames.until((all) => all.length >= 3, 'truncated and two events');
      // Its id is where delivery resumed (the last id trimmed): a reconnect from it is seamless.
      expect(frames[0]).toMatchObject({ event: 'truncated', id: appended[2]!.id });
      expect(JSON.parse(frames[0]!.data)).toEqual({ after: appended[0]!.id, resumedAt: appended[2]!.id, reason: 'cursor_not_retained' });
      expect(frames.slice(1, 3).map((f) => f.id)).toEqual([appended[3]!.id, appended[4]!.id]);

      // The last id ever trimmed is a seamless cursor: nothing after it was lost.
      const seamless = await openFeed(trimmed.url, '', { 'last-event-id': appended[2]!.id });
      readers.push(seamless);
      const next = await trimmed.log.append(newEvent());
      const seamlessFrames = await seamless.frames.until((all) => all.length >= 3, 'three events');
      expect(seamlessFrames.map((f) => f.id)).toEqual([appended[3]!.id, appended[4]!.id, next.id]);

      const unknown = await openFeed(trimmed.url, `?lastEventId=${ulidFloor(Date.UTC(2020, 0, 1))}`);
      readers.push(unknown);
      expect((await unknown.frames.until((all) => all.length >= 1, 'a frame'))[0]!.event).toBe('truncated');
    } finally {
      await trimmed.close();
    }
  });

  it.each([
    ['a pattern over 200 characters', `?types=${'x'.repeat(201)}`, {}, 'invalid_filter'],
    ['more than 100 patterns', `?sources=${Array.from({ length: 101 }, (_, i) => `s${i}`).join(',')}`, {}, 'invalid_filter'],
    ['an unknown parameter', '?type=payment.failed', {}, 'unknown_parameter'],
    ['a Last-Event-ID that is not an event id', '', { 'last-event-id': 'not-an-id' }, 'invalid_cursor'],
    ['a lastEventId query listing two ids', `?lastEventId=${ulidFloor(1)},${ulidFloor(2)}`, {}, 'invalid_cursor'],
  ])('answers 400 with a reason before streaming for %s', async (_what, query, headers, code) => {
    const res = await fetch(`${relay.url}/feed${query}`, { headers });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ error: code, message: expect.any(String) });
  });

  it('refuses a browser from another origin with 403', async () => {
    const res = await fetch(`${relay.url}/feed`, { headers: { origin: 'https://evil.example' } });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: 'forbidden_origin' });
  });

  it('ends open feeds when the relay shuts down', async () => {
    const other = await startTestRelay();
    const feed = await openFeed(other.url);
    await other.close();
    // Resolves only once the relay has ended the response.
    await feed.done;
  });
});

/** The ids the log holds after `after`, comma-joined: what a gapless, duplicate-free replay shows. */
async function idsAfter(log: EventLog, after: string): Promise<string> {
  const ids: string[] = [];
  let cursor: string | null = after;
  for (;;) {
    const page = await log.read({ after: cursor, limit: 1000 });
    ids.push(...page.events.map((e) => e.id));
    cursor = page.cursor;
    if (!page.hasMore) return ids.join();
  }
}

describe('GET /feed with API keys', () => {
  let relay: Relay;
  const key = 'feed-test-key-0123456789';
  beforeAll(async () => {
    relay = await startTestRelay({ RELAY_API_KEYS: `${key}:alice` });
  });
  afterAll(() => relay.close());

  it.each([
    ['no Authorization header', {}],
    ['an unknown key', { authorization: 'Bearer not-the-key-0123456789' }],
  ])('answers 401 to %s', async (_what, headers) => {
    const res = await fetch(`${relay.url}/feed`, { headers });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('streams to a valid bearer key', async () => {
    const feed = await openFeed(relay.url, '', { authorization: `Bearer ${key}` });
    const { id } = await relay.log.append(newEvent());
    expect((await feed.events(1))[0]!.id).toBe(id);
    feed.close();
  });
});

describe('GET /feed connection lifetime', () => {
  let parts: HttpParts;
  let log: EventLog;
  let server: Server;
  let base: string;
  beforeAll(async () => {
    const config = loadConfig({ PORT: '0', RELAY_STORE: 'memory', RELAY_STREAM_BUFFER_BYTES: '4096' });
    const backend = openBackend(config.store, config.log);
    log = backend.log;
    parts = createHttpApp(backend, config, createLogger('silent'));
    server = createServer(parts.listener);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    parts.feed.closeAll();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await log.close();
  });

  it('stops following the log when the client goes away', async () => {
    const leaving = await openFeed(base);
    const staying = await openFeed(base);
    expect(parts.feed.openFeeds).toBe(2);
    leaving.close();
    await eventually(() => parts.feed.openFeeds === 1, 'one feed left open');
    const { id } = await log.append(newEvent());
    expect((await staying.events(1))[0]!.id).toBe(id);
    expect(leaving.frames.items.filter((f) => f.id !== undefined)).toEqual([]);
    staying.close();
    await eventually(() => parts.feed.openFeeds === 0, 'no feed open');
  });

  /** A raw request for `/feed`; resolves with the socket and everything read so far, once the head is in. */
  async function rawFeed(version: '1.0' | '1.1') {
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(`GET /feed HTTP/${version}\r\nHost: 127.0.0.1\r\n\r\n`);
    await eventually(() => Buffer.concat(received).includes('retry:'), 'the feed open');
    return { socket, text: () => Buffer.concat(received).toString() };
  }

  it("writes a commit's frames to a chunked response as one HTTP chunk", async () => {
    const feed = await rawFeed('1.1');
    const results = await log.append([newEvent(), newEvent(), newEvent()]);
    await eventually(() => results.every((r) => feed.text().includes(`id: ${r.id}`)), 'the three frames');
    const body = feed.text().slice(feed.text().indexOf('\r\n\r\n') + 4);
    expect(feed.text()).toMatch(/transfer-encoding: chunked/i);
    // Chunks: the `retry:` preamble, then one whose data holds all three frames.
    const chunk = /([0-9a-f]+)\r\n(id: [^]*?)\r\n/.exec(body.slice(body.indexOf('\r\n', body.indexOf('retry:')) + 2))!;
    expect(Buffer.byteLength(chunk[2]!)).toBe(parseInt(chunk[1]!, 16));
    expect(chunk[2]!.match(/^id: /gm)).toHaveLength(3);
    feed.socket.destroy();
  });

  it('streams live frames to an HTTP/1.0 client, whose response is not chunked', async () => {
    const feed = await rawFeed('1.0');
    const results = await log.append([newEvent(), newEvent()]);
    await eventually(() => results.every((r) => feed.text().includes(`id: ${r.id}\nevent: payment.failed\n`)), 'both frames');
    expect(feed.text()).not.toMatch(/transfer-encoding: chunked/i);
    expect(feed.text()).not.toMatch(/\r\n[0-9a-f]+\r\nid:/);
    feed.socket.destroy();
  });

  it('disconnects a reader that stops reading once its unsent frames pass RELAY_STREAM_BUFFER_BYTES', async () => {
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    let closed = false;
    socket.on('close', () => (closed = true));
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('GET /feed HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await new Promise((resolve) => socket.once('data', resolve));
    socket.pause();
    expect(parts.feed.openFeeds).toBe(1);
    const big = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 40 && parts.feed.openFeeds > 0; i++) {
      await log.append(Array.from({ length: 10 }, () => newEvent({ data: { big } })));
    }
    await eventually(() => parts.feed.openFeeds === 0, 'the slow feed cut');
    socket.resume();
    await eventually(() => closed, 'the socket closed');
  });
});
