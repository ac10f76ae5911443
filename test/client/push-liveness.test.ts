import { afterEach, describe, expect, it } from 'vitest';
import type { EventClient } from '../../client/index.js';
import type { Relay } from '../../src/app.js';
import { LOG_START } from '../../src/events/ulid.js';
import { eventClientFor, freezableFetch, recorder } from '../support/client-harness.js';
import { ingest, startMcpRelay } from '../support/mcp-clients.js';

const UNKNOWN_CURSOR = '01J0000000000000000000000Z';

describe('a push subscription whose stream goes silent (RELAY_HEARTBEAT=100ms, heartbeatMs 150)', () => {
  let relay: Relay;
  let client: EventClient;
  afterEach(async () => {
    await client.close();
    await relay.close();
  });

  it('treats the stream as dead after twice the heartbeat and resumes from the cursor without loss or duplicates', async () => {
    relay = await startMcpRelay({ RELAY_HEARTBEAT: '100ms' });
    const gate = freezableFetch();
    client = eventClientFor(relay, 'push', { fetch: gate.fetch, heartbeatMs: 150 });
    const rec = recorder();
    await client.subscribe(rec.options);
    const before = await ingest(relay);
    await rec.until([before]);
    gate.freeze();
    const during = await ingest(relay);
    await rec.errors.until((errors) => errors.some((e) => e.kind === 'connection' && (e.cause as { code?: string }).code === 'stream_silent'), 'a silent-stream report');
    await rec.until([during]);
    const after = await ingest(relay);
    await rec.until([after]);
    expect(rec.delivered.items).toEqual([before, during, after]);
    expect(gate.streamsOpened.items.length).toBeGreaterThanOrEqual(2);
  });
});

describe.each(['push', 'poll'] as const)('a %s subscription from a cursor the relay does not hold', (mode) => {
  let relay: Relay;
  let client: EventClient;
  afterEach(async () => {
    await client.close();
    await relay.close();
  });

  it('reports truncated through onError and goes on delivering from the oldest retained event', async () => {
    relay = await startMcpRelay();
    const retained = await ingest(relay);
    client = eventClientFor(relay, mode);
    const rec = recorder({ cursor: UNKNOWN_CURSOR });
    await client.subscribe(rec.options);
    await rec.until([retained]);
    const live = await ingest(relay);
    await rec.until([live]);
    expect(rec.delivered.items).toEqual([retained, live]);
    // Nothing was ever trimmed: the relay resumed at the start of the log.
    expect(rec.errors.items).toEqual([{ kind: 'truncated', after: UNKNOWN_CURSOR, resumedAt: LOG_START }]);
  });
});
