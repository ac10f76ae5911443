import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/app.js';
import { Inbox, ingest, keys, modernStream, SseReader, startMcpRelay } from '../support/mcp-clients.js';

/** What a slow sender saw: the bytes the relay answered, and whether the relay ended the connection. */
interface SlowSend {
  answer: string;
  closedByServer: boolean;
}

/** How long a sender waits, silent, after its last byte before it gives up on the relay closing the connection. */
const GIVE_UP_TICKS = 30;

/**
 * Sends `head` and then `trickle` one byte a second on a raw socket, until the relay ends
 * the connection (or a generous while after the trickle ran out, when the test closes it).
 */
function sendSlowly(relay: Relay, head: string, trickle: string): Promise<SlowSend> {
  const url = new URL(relay.url);
  const socket = connect(Number(url.port), url.hostname);
  let answer = '';
  let closedByServer = false;
  let ticks = 0;
  const timer = setInterval(() => {
    if (ticks < trickle.length) socket.write(trickle[ticks]!);
    else if (ticks > trickle.length + GIVE_UP_TICKS) socket.destroy();
    ticks++;
  }, 1000);
  socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
  socket.on('end', () => (closedByServer = true));
  socket.on('error', () => undefined);
  socket.write(head);
  return new Promise((resolve) =>
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ answer, closedByServer });
    }),
  );
}

/** A `/feed` read as raw text: its heartbeats on an idle log are SSE comments, which parsers drop. */
async function rawFeed(relay: Relay): Promise<{ text: Inbox<string>; close: () => void }> {
  const abort = new AbortController();
  const res = await fetch(`${relay.url}/feed`, { headers: { authorization: `Bearer ${keys.alice}` }, signal: abort.signal });
  const text = new Inbox<string>();
  void (async () => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body!) text.push(decoder.decode(chunk, { stream: true }));
    } catch {
      // closed by the test
    } finally {
      text.end();
    }
  })();
  return { text, close: () => abort.abort() };
}

const occurrences = (chunks: string[], what: string) => chunks.join('').split(what).length - 1;

describe('node:http timeouts (RELAY_HEADERS_TIMEOUT=1s, RELAY_REQUEST_TIMEOUT=2s, RELAY_KEEP_ALIVE_TIMEOUT=1s)', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await startMcpRelay({ RELAY_HEADERS_TIMEOUT: '1s', RELAY_REQUEST_TIMEOUT: '2s', RELAY_KEEP_ALIVE_TIMEOUT: '1s', RELAY_HEARTBEAT: '500ms' });
  });
  afterAll(() => relay.close());

  it('closes a connection that sends its headers one byte a second, and keeps answering others', async () => {
    const slow = await sendSlowly(relay, 'GET /healthz HTTP/1.1\r\nHost: localhost\r\n', `X-Slow: ${'a'.repeat(20)}\r\n\r\n`);
    expect(slow.closedByServer).toBe(true);
    expect(slow.answer).toMatch(/^HTTP\/1\.1 408 /);
    expect((await fetch(`${relay.url}/healthz`)).status).toBe(200);
  }, 60_000);

  it('closes a connection that sends its body one byte a second', async () => {
    const head = `POST /mcp HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${keys.alice}\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n`;
    const slow = await sendSlowly(relay, head, '{"jsonrpc":"2.0","id":1,"method":"ping"}');
    expect(slow.closedByServer).toBe(true);
    expect(slow.answer).toMatch(/^HTTP\/1\.1 408 /);
    expect((await fetch(`${relay.url}/healthz`)).status).toBe(200);
  }, 60_000);

  it('closes a keep-alive connection left idle after its answer', async () => {
    const idle = await sendSlowly(relay, 'GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n', '');
    expect(idle.closedByServer).toBe(true);
    expect(idle.answer).toMatch(/^HTTP\/1\.1 200 /);
  }, 60_000);

  it('lets a /feed and a push stream last well past the request timeout: it bounds receiving a request, not a response', async () => {
    const feed = await rawFeed(relay);
    const push: SseReader = await modernStream(relay, { cursor: null });
    // Heartbeats are 500 ms apart: eight of each span several request timeouts.
    await feed.text.until((chunks) => occurrences(chunks, ': keep-alive') >= 8, 'eight feed heartbeats', 30_000);
    const heartbeats = () => push.frames.items.filter((f) => f.data.includes('notifications/events/heartbeat')).length;
    await push.frames.until(() => heartbeats() >= 8, 'eight push heartbeats', 30_000);
    const id = await ingest(relay);
    await feed.text.until((chunks) => occurrences(chunks, `id: ${id}`) >= 1, 'the event on the feed');
    expect((await push.untilEvents(1)).map((f) => f.id)).toEqual([id]);
    feed.close();
    push.close();
  }, 60_000);
});
