import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/app.js';
import { LOG_START } from '../../src/events/ulid.js';
import { newEvent } from '../support/events.js';
import { ingest, keys, LEGACY_VERSION, MODERN_VERSION, modernStream, openUnreadStream, rawLegacySession, rpcOf } from '../support/mcp-clients.js';
import { type LogLine, metricKey, scrape, startObservedRelay } from '../support/observed-relay.js';
import { openPausedSse } from '../support/paused-sse.js';
import { until } from '../contract/log-factory.js';

/** Every stream end has a cause: in its log line, and in relay_stream_ends_total by reason. */
describe('why a stream ended', () => {
  let relay: Relay | undefined;
  let lines: LogLine[] = [];
  const auth = { authorization: `Bearer ${keys.alice}` };
  const start = async (env: Record<string, string> = {}) => {
    ({ relay, lines } = await startObservedRelay({ RELAY_API_KEYS: `${keys.alice}:alice,${keys.bob}:bob`, ...env }));
    return relay!;
  };
  const ended = (stream: string) => lines.filter((l) => l.stream === stream && (l.msg === 'stream ended' || l.msg === 'stream ended by a failure'));
  afterEach(async () => {
    await relay?.close();
    relay = undefined;
  });

  it('says a push reader that stopped reading was too slow', async () => {
    const r = await start({ RELAY_STREAM_BUFFER_BYTES: '4096' });
    const slow = await openUnreadStream(r, keys.bob);
    for (let sent = 0; ended('2026-07-28').length === 0; sent++) {
      if (sent > 5000) throw new Error('the unread stream was never cut');
      await ingest(r, { padding: 16_000 });
    }
    expect(ended('2026-07-28')[0]).toMatchObject({ principal: 'bob', reason: 'reader_too_slow' });
    expect((await scrape(r, auth)).get(metricKey('relay_stream_ends_total', { stream: '2026-07-28', reason: 'reader_too_slow' }))).toBe(1);
    slow.destroy();
  });

  it('says a stream rotated after RELAY_STREAM_LIFETIME ended by lifetime, with terminated and then its final result', async () => {
    const r = await start({ RELAY_STREAM_LIFETIME: '200ms' });
    const stream = await modernStream(r, { cursor: null });
    const { message: terminated } = await stream.nextRpc('notifications/events/terminated');
    expect(terminated.params).toEqual({
      error: { code: -32013, message: expect.stringContaining('lifetime'), data: { reason: 'lifetime', limit: 'stream_lifetime_ms', max: 200 } },
      _meta: { 'io.modelcontextprotocol/subscriptionId': stream.requestId },
    });
    const { message } = await stream.nextRpc('response');
    expect(message.result).toMatchObject({ resultType: 'complete' });
    await until(() => ended('2026-07-28').length === 1);
    expect(ended('2026-07-28')[0]).toMatchObject({ reason: 'lifetime' });
    expect((await scrape(r, auth)).get(metricKey('relay_stream_ends_total', { stream: '2026-07-28', reason: 'lifetime' }))).toBe(1);
  });

  it('says a feed the client closed ended by client_closed, and one open at shutdown by shutdown', async () => {
    const r = await start();
    const closed = await openPausedSse(r, { method: 'GET', path: '/feed', headers: auth });
    closed.close();
    await until(() => ended('feed').length === 1);
    expect(ended('feed')[0]).toMatchObject({ principal: 'alice', reason: 'client_closed' });
    expect((await scrape(r, auth)).get(metricKey('relay_stream_ends_total', { stream: 'feed', reason: 'client_closed' }))).toBe(1);
    await openPausedSse(r, { method: 'GET', path: '/feed', headers: auth });
    await r.close();
    relay = undefined;
    expect(ended('feed')[1]).toMatchObject({ reason: 'shutdown' });
  });

  it('logs a stream the log could not be read for as a store error, with the error', async () => {
    const r = await start();
    await r.log.append(Array.from({ length: 3000 }, () => newEvent({ data: { pad: 'x'.repeat(8000) } })));
    const feed = await openPausedSse(r, { method: 'GET', path: '/feed', headers: { ...auth, 'last-event-id': LOG_START } });
    await feed.readUntil((f) => f.id !== undefined, 'the first event');
    // The store goes away while the feed waits on its reader: its next backlog read fails.
    await r.log.close();
    feed.resume();
    await until(() => ended('feed').length === 1, 15_000);
    const line = ended('feed')[0]!;
    expect(line).toMatchObject({ msg: 'stream ended by a failure', reason: 'store_error', err: { message: 'the event log is closed' } });
    feed.close();
  });

  it('tells a 2025-11-25 stream rotated after RELAY_STREAM_LIFETIME nothing: it closes without a result and stays resumable', async () => {
    const r = await start({ RELAY_STREAM_LIFETIME: '200ms' });
    const session = await rawLegacySession(r);
    const stream = await session.stream({ cursor: null });
    await stream.done;
    expect(stream.frames.items.filter((f) => f.data !== '').map((f) => rpcOf(f).method)).toEqual(['notifications/events/active']);
    const id = await ingest(r);
    const resumed = await session.resume(stream.frames.items[0]!.id!);
    expect((await resumed.untilEvents(1)).map((f) => f.id)).toEqual([`${stream.frames.items[0]!.id!.split('.')[0]}.${id}`]);
    resumed.close();
  });

  it('sends terminated before the final result when the relay shuts down, in both eras', async () => {
    const r = await start();
    const modern = await modernStream(r, { cursor: null });
    const legacy = await (await rawLegacySession(r)).stream({ cursor: null });
    for (const stream of [modern, legacy]) await stream.nextRpc('notifications/events/active');
    await r.close();
    relay = undefined;
    for (const stream of [modern, legacy]) {
      await stream.done;
      const tail = stream.frames.items.filter((f) => f.data !== '').map(rpcOf).slice(-2);
      expect(tail.map((m) => m.method ?? 'result')).toEqual(['notifications/events/terminated', 'result']);
      expect(tail[0]!.params).toEqual({
        error: { code: -32603, message: expect.stringContaining('shutting down'), data: { reason: 'shutdown' } },
        _meta: { 'io.modelcontextprotocol/subscriptionId': stream.requestId },
      });
    }
    expect(ended('2026-07-28')[0]).toMatchObject({ reason: 'shutdown' });
    expect(ended('2025-11-25')[0]).toMatchObject({ reason: 'shutdown' });
  });

  it('sends no terminated to a stream whose session the client deleted: it ends with its final result', async () => {
    const r = await start();
    const session = await rawLegacySession(r);
    const legacy = await session.stream({ cursor: null });
    await legacy.nextRpc('notifications/events/active');
    expect((await fetch(`${r.url}/mcp`, { method: 'DELETE', headers: { ...auth, 'mcp-session-id': session.id, 'mcp-protocol-version': LEGACY_VERSION } })).status).toBe(200);
    await legacy.done;
    expect(legacy.frames.items.filter((f) => f.data !== '').map((f) => rpcOf(f).method ?? 'result')).toEqual(['notifications/events/active', 'result']);
    expect(ended('2025-11-25')[0]).toMatchObject({ reason: 'session_closed' });
  });

  for (const era of ['2026-07-28', '2025-11-25'] as const) {
    it(`ends a ${era} stream that fails for another reason than the store at once, with terminated saying internal_error`, async () => {
      const path = join(mkdtempSync(join(tmpdir(), 'relay-ends-')), 'relay.db');
      const r = await start({ RELAY_STORE: `sqlite:${path}` });
      const id = await ingest(r);
      // A stored event whose text is not JSON: encoding its frame fails in the relay, not in the store.
      const db = new Database(path);
      db.prepare('UPDATE events SET body = ? WHERE id = ?').run('{"broken', id);
      db.close();
      const stream = era === '2026-07-28' ? await modernStream(r, { cursor: LOG_START }) : await (await rawLegacySession(r)).stream({ cursor: LOG_START });
      await stream.done;
      const messages = stream.frames.items.filter((f) => f.data !== '').map(rpcOf);
      expect(messages.map((m) => m.method ?? 'result')).toEqual(['notifications/events/active', 'notifications/events/terminated']);
      expect(messages[1]!.params).toMatchObject({ error: { code: -32603, data: { reason: 'internal_error' } }, _meta: { 'io.modelcontextprotocol/subscriptionId': stream.requestId } });
      await until(() => ended(era).length === 1);
      expect(ended(era)[0]).toMatchObject({ msg: 'stream ended by a failure', reason: 'internal_error' });
    });
  }

  for (const era of ['2026-07-28', '2025-11-25'] as const) {
    it(`tells a ${era} push stream of each failed read of the log with notifications/events/error, retries, and ends with terminated`, async () => {
      const r = await start();
      await r.log.append(Array.from({ length: 3000 }, () => newEvent({ data: { pad: 'x'.repeat(8000) } })));
      const stream = await openPausedPush(r, era);
      await stream.readUntil((f) => f.id !== undefined, 'the first event');
      // The store goes away while the stream waits on its reader: every read from then on fails.
      await r.log.close();
      stream.resume();
      await stream.frames.until((all) => all.some((f) => f.data !== '' && rpcOf(f).method === 'notifications/events/terminated'), 'terminated', 15_000);
      const notices = stream.frames.items.filter((f) => f.data !== '' && rpcOf(f).method !== 'notifications/events/event').map(rpcOf);
      expect(notices.map((m) => m.method)).toEqual([
        'notifications/events/active',
        'notifications/events/error',
        'notifications/events/error',
        'notifications/events/error',
        'notifications/events/terminated',
      ]);
      expect(notices[1]!.params).toMatchObject({ error: { code: -32603, data: { reason: 'store_unavailable', retryInMs: 500 } }, _meta: { 'io.modelcontextprotocol/subscriptionId': 1 } });
      expect(notices[4]!.params).toMatchObject({ error: { code: -32603, data: { reason: 'store_error' } } });
      await until(() => ended(era).length === 1);
      expect(ended(era)[0]).toMatchObject({ msg: 'stream ended by a failure', reason: 'store_error' });
      stream.close();
    });
  }
});

/** A push stream (`id: 1`) of either era read over node:http, paused until the test reads. */
async function openPausedPush(relay: Relay, era: '2026-07-28' | '2025-11-25') {
  const auth = { authorization: `Bearer ${keys.alice}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  const params = { name: 'cx_events', cursor: LOG_START };
  if (era === '2026-07-28') {
    const _meta = { 'io.modelcontextprotocol/protocolVersion': MODERN_VERSION, 'io.modelcontextprotocol/clientCapabilities': { events: {} } };
    return openPausedSse(relay, {
      method: 'POST',
      path: '/mcp',
      headers: { ...auth, 'mcp-protocol-version': MODERN_VERSION, 'mcp-method': 'events/stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'events/stream', params: { ...params, _meta } }),
    });
  }
  const session = await rawLegacySession(relay);
  return openPausedSse(relay, {
    method: 'POST',
    path: '/mcp',
    headers: { ...auth, 'mcp-session-id': session.id, 'mcp-protocol-version': LEGACY_VERSION },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'events/stream', params }),
  });
}
