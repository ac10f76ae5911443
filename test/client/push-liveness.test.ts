import { afterEach, describe, expect, it } from 'vitest';
import type { EventClient } from '../../client/index.js';
import type { Relay } from '../../src/app.js';
import { LOG_START } from '../../src/events/ulid.js';
import { eventClientFor, freezableFetch, legacyOnlyFetch, recorder } from '../support/client-harness.js';
import { newEvent } from '../support/events.js';
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

/**
 * A fetch whose `events/stream` response bodies can be paused: while paused nothing more is
 * read from the socket, so the relay's writes fill the kernel's buffers and its reader
 * waits, as behind a consumer that stopped reading.
 */
function pausableFetch(inner: typeof fetch) {
  let gate: Promise<void> | undefined;
  let open = () => {};
  const pausable: typeof fetch = async (input, init) => {
    const res = await inner(input, init);
    const method = typeof init?.body === 'string' ? (JSON.parse(init.body) as { method?: string }).method : undefined;
    if (method !== 'events/stream' || !res.body) return res;
    const reader = res.body.getReader();
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          await gate;
          const { done, value } = await reader.read();
          if (done) controller.close();
          else controller.enqueue(value);
        },
        cancel: (reason) => reader.cancel(reason),
      },
      { highWaterMark: 0 },
    );
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
  return {
    fetch: pausable,
    pause() {
      gate ??= new Promise((resolve) => (open = resolve));
    },
    resume() {
      gate = undefined;
      open();
    },
  };
}

const eras = [
  { era: '2026-07-28', fetch: fetch },
  { era: '2025-11-25', fetch: legacyOnlyFetch().fetch },
];

describe.each(eras)('a push subscription ($era) that stopped reading while retention trimmed past it', ({ fetch: eraFetch }) => {
  let relay: Relay;
  let client: EventClient;
  afterEach(async () => {
    await client.close();
    await relay.close();
  });

  it('reports the gap mid-stream with where it stood and where the relay resumed, and delivers the rest', async () => {
    relay = await startMcpRelay();
    // 3,000 events of about 8 KB: far more than the socket buffers of a reader that stopped reading.
    const ids: string[] = [];
    for (let batch = 0; batch < 6; batch++) {
      const results = await relay.log.append(Array.from({ length: 500 }, () => newEvent({ data: { pad: 'x'.repeat(8000) } })));
      ids.push(...results.map((r) => r.id));
    }
    const gate = pausableFetch(eraFetch);
    client = eventClientFor(relay, 'push', { fetch: gate.fetch });
    const rec = recorder({ cursor: LOG_START });
    const onEvent = rec.options.onEvent;
    rec.options.onEvent = (event) => {
      // Stops reading at the first event; what was already read is handled meanwhile.
      if (event.id === ids[0]) gate.pause();
      return onEvent(event);
    };
    await client.subscribe(rec.options);
    await rec.delivered.until((items) => items.length > 0, 'the first event');
    await relay.log.trim({ maxEvents: 100 });
    gate.resume();
    await rec.until([ids.at(-1)!]);

    const prefix = rec.delivered.items.length - 100;
    expect(prefix).toBeGreaterThan(0);
    expect(prefix).toBeLessThan(2900);
    expect(rec.delivered.items).toEqual([...ids.slice(0, prefix), ...ids.slice(2900)]);
    expect(rec.errors.items).toEqual([{ kind: 'truncated', after: ids[prefix - 1], resumedAt: ids[2899] }]);
  });
});
