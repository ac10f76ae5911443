import { afterEach, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/app.js';
import { LOG_START } from '../../src/events/ulid.js';
import { newEvent } from '../support/events.js';
import { ingest, keys, modernStream, openUnreadStream } from '../support/mcp-clients.js';
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

  it('says a stream rotated after RELAY_STREAM_LIFETIME ended by lifetime, with its final result', async () => {
    const r = await start({ RELAY_STREAM_LIFETIME: '200ms' });
    const stream = await modernStream(r, { cursor: null });
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
});
