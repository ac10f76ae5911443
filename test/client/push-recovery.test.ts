import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createEventClient, type EventClient } from '../../client/index.js';
import { legacyOnlyFetch, recorder } from '../support/client-harness.js';
import { keys } from '../support/mcp-clients.js';
import { RelayProcess, freePort, ingestAt } from '../contract/delivery-modes/relay-process.js';

/** Far beyond the test's timeout: a client that waited for two missed heartbeats cannot pass. */
const HEARTBEAT_MS = 60_000;

const eras = [
  { label: '2026-07-28', fetch: () => fetch },
  { label: '2025-11-25', fetch: () => legacyOnlyFetch().fetch },
];

describe.each(eras)('a push subscription ($label) whose relay is killed with SIGKILL', ({ fetch: eraFetch }) => {
  const cleanups: (() => Promise<unknown> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
  });

  it('reconnects when the transport reports the stream cut, not after missed heartbeats, and delivers the next webhook', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'push-recovery-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const relay = new RelayProcess(await freePort(), join(dir, 'relay.db'));
    cleanups.push(() => relay.kill());
    await relay.start();
    const client: EventClient = createEventClient({ url: `${relay.url}/mcp`, token: keys.alice, mode: 'push', heartbeatMs: HEARTBEAT_MS, fetch: eraFetch() });
    cleanups.push(() => client.close());
    const rec = recorder();
    await client.subscribe(rec.options);
    const before = await ingestAt(relay.url);
    await rec.until([before]);

    relay.kill();
    const lost = await rec.errors.until(
      (errors) => errors.some((e) => e.kind === 'connection' && (e.cause as { code?: string }).code === 'stream_lost'),
      'stream_lost connection report',
    );
    await relay.start();
    const healthz = await fetch(`${relay.url}/healthz`);
    expect(healthz.status).toBe(200);
    const after = await ingestAt(relay.url);
    await rec.until([after]);

    expect(rec.delivered.items).toEqual([before, after]);
    // The first report names the cut stream; later ones are the refused retries while the relay was down.
    expect(lost[0]).toMatchObject({ kind: 'connection', attempt: 1, cause: { code: 'stream_lost' } });
    expect(rec.errors.items.filter((e) => e.kind !== 'connection')).toEqual([]);
  });
});
