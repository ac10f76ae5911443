import { afterEach, describe, expect, it } from 'vitest';
import type { ClientMode, EventClient } from '../../client/index.js';
import type { Relay } from '../../src/app.js';
import { eventClientFor, legacyOnlyFetch, recorder } from '../support/client-harness.js';
import { ingest, LEGACY_VERSION, logIdsAfter, startMcpRelay, watchedFetch } from '../support/mcp-clients.js';

describe.each(['auto', 'poll', 'tools'] satisfies ClientMode[])('subscribe() in %s mode against a relay that only speaks 2025-11-25', (mode) => {
  let relay: Relay;
  let client: EventClient;
  afterEach(async () => {
    await client.close();
    await relay.close();
  });

  it('falls back to initialize and delivers webhooks in log order, each exactly once, across stream rotations (push: resumed by GET + Last-Event-ID)', async () => {
    relay = await startMcpRelay({ RELAY_STREAM_LIFETIME: '300ms' });
    const watched = watchedFetch();
    const legacy = legacyOnlyFetch(watched.fetch);
    client = eventClientFor(relay, mode, { fetch: legacy.fetch });
    const rec = recorder();
    const sub = await client.subscribe(rec.options);
    expect(sub.mode).toBe(mode === 'auto' ? 'push' : mode);
    const origin = (await relay.log.head()) ?? '0'.repeat(26);
    const sent: string[] = [];
    for (let round = 0; round < 2; round++) {
      sent.push(await ingest(relay), await ingest(relay));
      await rec.until(sent);
      // 2025-11-25 rotation closes the push stream without a result; the SDK resumes it with a GET and Last-Event-ID.
      if (mode === 'auto') await watched.streamEnds.until((ends) => ends.filter((e) => e === 'events/stream' || e === 'GET').length > round, `rotation ${round + 1}`);
    }
    const sentinel = await ingest(relay);
    await rec.until([sentinel]);
    expect(rec.delivered.items).toEqual([...sent, sentinel]);
    expect([...sent, sentinel]).toEqual(await logIdsAfter(relay, origin));
    expect(legacy.versions.filter((v) => v !== null).every((v) => v === LEGACY_VERSION)).toBe(true);
  });
});
