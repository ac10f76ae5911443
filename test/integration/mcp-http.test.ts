import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/app.js';
import {
  eventually,
  ingest,
  keys,
  LEGACY_VERSION,
  logIdsAfter,
  MODERN_VERSION,
  modernPost,
  modernStream,
  openUnreadStream,
  rawHttp,
  rawLegacySession,
  readRpc,
  rpcOf,
  SseReader,
  startMcpRelay,
  WAIT_MS,
} from '../support/mcp-clients.js';

const STREAM = { name: 'cx_events', cursor: null };
/** Both the SDK's modern handler (tools/list) and the relay's own (events/stream) must check the headers. */
const MODERN_METHODS = [
  ['tools/list', {}],
  ['events/stream', STREAM],
] as const;

async function rejection(res: Response) {
  return { status: res.status, error: (await readRpc(res)).error };
}

describe('/mcp refuses malformed 2026-07-28 requests', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await startMcpRelay();
  });
  afterAll(() => relay.close());

  for (const [method, params] of MODERN_METHODS) {
    it(`answers ${method} without MCP-Protocol-Version with 400 and -32020`, async () => {
      const answer = await rejection(await modernPost(relay, method, params, { headers: { 'mcp-protocol-version': undefined } }));
      expect(answer).toMatchObject({ status: 400, error: { code: -32020, message: expect.stringContaining('MCP-Protocol-Version') } });
    });

    it(`answers ${method} whose MCP-Protocol-Version disagrees with _meta with 400 and -32020`, async () => {
      const answer = await rejection(await modernPost(relay, method, params, { headers: { 'mcp-protocol-version': LEGACY_VERSION } }));
      expect(answer).toMatchObject({ status: 400, error: { code: -32020, data: { mismatch: expect.any(Object) } } });
    });

    it(`answers ${method} in an unsupported protocol version with 400, -32022 and the supported versions`, async () => {
      const answer = await rejection(await modernPost(relay, method, params, { version: '2099-01-01' }));
      expect(answer).toMatchObject({ status: 400, error: { code: -32022, data: { supported: [MODERN_VERSION], requested: '2099-01-01' } } });
    });

    it(`answers ${method} whose _meta lacks clientCapabilities with 400 and -32602`, async () => {
      const answer = await rejection(await modernPost(relay, method, params, { capabilities: null }));
      expect(answer).toMatchObject({ status: 400, error: { code: -32602, message: expect.stringContaining('clientCapabilities') } });
    });

    it(`answers ${method} whose Mcp-Method header names another method with 400 and -32020`, async () => {
      const answer = await rejection(await modernPost(relay, method, params, { headers: { 'mcp-method': 'events/poll' } }));
      expect(answer).toMatchObject({ status: 400, error: { code: -32020, message: expect.stringContaining('Mcp-Method') } });
    });
  }
});

describe('/mcp guards 2025-11-25 sessions', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await startMcpRelay();
  });
  afterAll(() => relay.close());

  it('answers a request for a session it does not know with 404', async () => {
    const session = await rawLegacySession(relay);
    const res = await session.post({ id: 1, method: 'tools/list' }, { 'mcp-session-id': 'no-such-session' });
    expect(await rejection(res)).toMatchObject({ status: 404, error: { message: 'Session not found' } });
  });

  it('answers an unsupported MCP-Protocol-Version on a session with 400, for SDK and push requests alike', async () => {
    const session = await rawLegacySession(relay);
    const bad = { 'mcp-protocol-version': '1999-01-01' };
    for (const res of [
      await session.post({ id: 1, method: 'tools/list' }, bad),
      await session.post({ id: 2, method: 'events/stream', params: STREAM }, bad),
      await session.get({ ...bad, 'last-event-id': 's1.00000000000000000000000000' }),
    ]) {
      expect(await rejection(res)).toMatchObject({ status: 400, error: { message: expect.stringContaining('Unsupported protocol version') } });
    }
  });

  it('refuses a session to a principal other than the one that opened it with 403', async () => {
    const session = await rawLegacySession(relay);
    const asBob = { authorization: `Bearer ${keys.bob}` };
    for (const res of [
      await session.post({ id: 1, method: 'tools/list' }, asBob),
      await session.post({ id: 2, method: 'events/stream', params: STREAM }, asBob),
      await session.get(asBob),
    ]) {
      expect(await rejection(res)).toMatchObject({ status: 403, error: { message: expect.stringContaining('another principal') } });
    }
  });

  it('answers a Last-Event-ID of a push stream the session never had with 404', async () => {
    const session = await rawLegacySession(relay);
    const res = await session.get({ 'last-event-id': 's9.00000000000000000000000000' });
    expect(await rejection(res)).toMatchObject({ status: 404, error: { message: expect.stringContaining('s9') } });
  });
});

describe('/mcp authentication and origin checks', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await startMcpRelay({ RELAY_ALLOWED_ORIGINS: 'https://dashboard.example' });
  });
  afterAll(() => relay.close());

  it('answers a request without a bearer token with 401 and a Bearer challenge', async () => {
    const res = await modernPost(relay, 'tools/list', {}, { headers: { authorization: undefined } });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect(await res.json()).toMatchObject({ error: 'unauthorized', message: expect.stringContaining('bearer token') });
  });

  it('answers a request with an unknown bearer token with 401 and error="invalid_token"', async () => {
    const res = await modernPost(relay, 'tools/list', {}, { key: 'not-a-configured-key-000' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
    expect(res.headers.get('www-authenticate')).not.toContain('not-a-configured-key');
  });

  it('answers a foreign Origin with 403 and lets a listed one through', async () => {
    const foreign = await modernPost(relay, 'tools/list', {}, { headers: { origin: 'https://evil.example' } });
    expect(foreign.status).toBe(403);
    expect(await foreign.json()).toMatchObject({ error: 'forbidden_origin' });
    const listed = await modernPost(relay, 'tools/list', {}, { headers: { origin: 'https://dashboard.example' } });
    expect(listed.status).toBe(200);
  });

  it('answers a request addressed to a non-loopback Host with 403 (DNS rebinding)', async () => {
    const port = new URL(relay.url).port;
    const headers = { authorization: `Bearer ${keys.alice}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: LEGACY_VERSION, capabilities: {}, clientInfo: { name: 't', version: '1' } } });
    const rebound = await rawHttp(relay, { headers: { ...headers, host: `attacker.example:${port}` }, body });
    expect(rebound.status).toBe(403);
    expect(JSON.parse(rebound.body)).toMatchObject({ error: 'forbidden_host' });
    expect((await rawHttp(relay, { headers: { ...headers, host: `localhost:${port}` }, body })).status).toBe(200);
  });
});

describe('/mcp push stream limits', () => {
  let relay: Relay;
  afterEach(() => relay.close());

  it('refuses a push stream beyond RELAY_MAX_STREAMS_PER_PRINCIPAL with -32013, per principal and in both eras', async () => {
    relay = await startMcpRelay({ RELAY_MAX_STREAMS_PER_PRINCIPAL: '2' });
    const session = await rawLegacySession(relay);
    const open = [await modernStream(relay, STREAM), await session.stream(STREAM)];
    const modern = await readRpc(await modernPost(relay, 'events/stream', STREAM));
    expect(modern.error).toMatchObject({ code: -32013, data: { limit: 'push_streams', max: 2 } });
    const legacy = await readRpc(await session.post({ id: 9, method: 'events/stream', params: STREAM }));
    expect(legacy).toMatchObject({ id: 9, error: { code: -32013 } });
    const bob = await modernStream(relay, STREAM, keys.bob);
    await bob.nextRpc('notifications/events/active');
    for (const stream of [...open, bob]) stream.close();
  });

  it('cancels a modern push stream when its client disconnects, which frees its slot', async () => {
    relay = await startMcpRelay({ RELAY_MAX_STREAMS_PER_PRINCIPAL: '1' });
    const first = await modernStream(relay, STREAM);
    await first.nextRpc('notifications/events/active');
    expect((await readRpc(await modernPost(relay, 'events/stream', STREAM))).error).toMatchObject({ code: -32013 });
    first.close();
    const next = await eventually(async () => {
      const abort = new AbortController();
      const res = await modernPost(relay, 'events/stream', STREAM, { signal: abort.signal });
      if (res.headers.get('content-type')?.includes('text/event-stream')) return new SseReader(res, abort);
      expect((await readRpc(res)).error).toMatchObject({ code: -32013 });
      return undefined;
    }, 'a free stream slot');
    await next.nextRpc('notifications/events/active');
    next.close();
  });

  it('replays a backlog larger than RELAY_STREAM_BUFFER_BYTES in full to a reader that keeps up', async () => {
    relay = await startMcpRelay({ RELAY_STREAM_BUFFER_BYTES: '16384' });
    const first = await ingest(relay, { padding: 1000 });
    for (let i = 0; i < 29; i++) await ingest(relay, { padding: 1000 });
    const stream = await modernStream(relay, { cursor: first });
    const all = [first, ...(await logIdsAfter(relay, first))];
    expect((await stream.untilEvents(29)).map((f) => f.id)).toEqual(all.slice(1));
    const live = await ingest(relay);
    expect((await stream.untilEvents(30)).map((f) => f.id)).toEqual([...all.slice(1), live]);
    stream.close();
  });

  it('disconnects a reader that stops reading once RELAY_STREAM_BUFFER_BYTES are pending, and keeps serving the others', async () => {
    relay = await startMcpRelay({ RELAY_STREAM_BUFFER_BYTES: '4096', RELAY_MAX_STREAMS_PER_PRINCIPAL: '1' });
    const healthy = await modernStream(relay, STREAM);
    const start = (await healthy.nextRpc('notifications/events/active')).message.params!.cursor as string;
    const slow = await openUnreadStream(relay, keys.bob);
    const bobHasRoom = async () => {
      const res = await modernPost(relay, 'events/stream', STREAM, { key: keys.bob });
      if (res.headers.get('content-type')?.includes('text/event-stream')) {
        await res.body?.cancel();
        return true;
      }
      expect((await readRpc(res)).error).toMatchObject({ code: -32013 });
      return false;
    };
    expect(await bobHasRoom()).toBe(false);

    let sent = 0;
    const deadline = Date.now() + 60_000;
    while (!(sent > 0 && sent % 10 === 0 && (await bobHasRoom()))) {
      if (Date.now() > deadline || sent > 20_000) throw new Error(`the unread stream was still open after ${sent} events`);
      await ingest(relay, { padding: 16_000 });
      sent++;
    }
    const received = await healthy.untilEvents(sent, WAIT_MS);
    expect(received.map((f) => f.id)).toEqual(await logIdsAfter(relay, start));
    expect(await slow.drain()).toBeGreaterThan(0);
    healthy.close();
  }, 90_000);
});

describe('/mcp at shutdown', () => {
  let relay: Relay;
  beforeEach(async () => {
    relay = await startMcpRelay();
  });

  it('ends every open push stream with its final result, then closes it', async () => {
    const modern = await modernStream(relay, STREAM);
    const session = await rawLegacySession(relay);
    const legacy = await session.stream(STREAM);
    const last = await ingest(relay);
    const streams: SseReader[] = [modern, legacy];
    for (const stream of streams) await stream.untilEvents(1);
    await relay.close();
    for (const stream of streams) await stream.done;
    const final = (stream: SseReader) => stream.frames.items.filter((f) => f.data !== '').map(rpcOf).filter((m) => m.id !== undefined && m.method === undefined);
    const subscription = (stream: SseReader) => ({ 'io.modelcontextprotocol/subscriptionId': stream.requestId });
    const serverInfo = { 'io.modelcontextprotocol/serverInfo': { name: 'mcp-event-relay', version: '0.1.0' } };
    expect(final(modern)).toEqual([{ jsonrpc: '2.0', id: modern.requestId, result: { resultType: 'complete', cursor: last, _meta: { ...subscription(modern), ...serverInfo } } }]);
    // 2025-11-25 results carry no server identity; the draft's StreamEventsResult is `{ _meta }`.
    expect(final(legacy)).toEqual([{ jsonrpc: '2.0', id: legacy.requestId, result: { cursor: last, _meta: subscription(legacy) } }]);
  });
});
