import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type ClientMode, type EventClient, fileCursorStore, memoryCursorStore } from '../../client/index.js';
import type { Relay } from '../../src/app.js';
import type { Event } from '../../src/events/event.js';
import { recorder, eventClientFor } from '../support/client-harness.js';
import { eventually, ingest, logIdsAfter, startMcpRelay, watchedFetch } from '../support/mcp-clients.js';

const modes: ClientMode[] = ['push', 'poll', 'tools', 'auto'];
const streams = (mode: ClientMode) => mode === 'push' || mode === 'auto';

describe.each(modes)('subscribe() in %s mode', (mode) => {
  let relay: Relay | undefined;
  const clients: EventClient[] = [];
  const dirs: string[] = [];
  const client = (r: Relay, options: Parameters<typeof eventClientFor>[2] = {}) => {
    const c = eventClientFor(r, mode, options);
    clients.push(c);
    return c;
  };
  const start = async (env: Record<string, string> = {}) => (relay = await startMcpRelay(env));
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await relay?.close();
    relay = undefined;
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });

  it('delivers matching webhooks in log order, each exactly once', async () => {
    const r = await start();
    const rec = recorder({ filter: { types: ['payment.failed', 'order.delayed'] } });
    const sub = await client(r).subscribe(rec.options);
    expect(sub.mode).toBe(mode === 'auto' ? 'push' : mode);
    const sent: string[] = [];
    for (const type of ['payment.failed', 'ticket.created', 'order.delayed', 'payment.failed', 'ticket.created', 'order.delayed']) {
      const id = await ingest(r, { type });
      if (type !== 'ticket.created') sent.push(id);
    }
    await rec.until(sent);
    const sentinel = await ingest(r, { type: 'payment.failed' });
    await rec.until([sentinel]);
    expect(rec.delivered.items).toEqual([...sent, sentinel]);
    expect(rec.errors.items).toEqual([]);
  });

  it('retries an onEvent that throws once, then delivers the event', async () => {
    const r = await start();
    const tries = new Map<string, number>();
    const rec = recorder();
    rec.options.onEvent = (event: Event) => {
      const n = (tries.get(event.id) ?? 0) + 1;
      tries.set(event.id, n);
      if (n === 1) throw new Error('transient');
      rec.delivered.push(event.id);
    };
    await client(r).subscribe(rec.options);
    const sent = [await ingest(r), await ingest(r)];
    await rec.until(sent);
    expect(rec.delivered.items).toEqual(sent);
    expect(sent.map((id) => tries.get(id))).toEqual([2, 2]);
    expect(rec.errors.items).toEqual([]);
  });

  it('reports an onEvent that always throws through onError, skips the event and moves on', async () => {
    const r = await start();
    const store = memoryCursorStore();
    const rec = recorder({ cursorStore: store });
    rec.options.onEvent = (event: Event) => {
      if (event.customerId === 'cus_poison') throw new Error('poison');
      rec.delivered.push(event.id);
    };
    await client(r).subscribe(rec.options);
    const poison = await ingest(r, { customerId: 'cus_poison' });
    const next = await ingest(r);
    await rec.until([next]);
    expect(rec.delivered.items).toEqual([next]);
    expect(rec.errors.items).toEqual([expect.objectContaining({ kind: 'handler', attempts: 2, event: expect.objectContaining({ id: poison }) })]);
    if (mode === 'tools') await eventually(async () => ((await r.log.pending('alice')).pending === 0 ? true : undefined), 'both events acknowledged');
    else await eventually(async () => (store.cursor === next ? true : undefined), 'the cursor past both events');
  });

  it('resumes after a restart without loss or duplicates (cursor in a fileCursorStore; tools: the group on the relay)', async () => {
    const r = await start();
    const dir = await mkdtemp(join(tmpdir(), 'relay-client-'));
    dirs.push(dir);
    const path = join(dir, 'cursor.json');
    const first = recorder({ cursorStore: fileCursorStore(path) });
    const before = client(r);
    await before.subscribe(first.options);
    const origin = (await r.log.head()) ?? '0'.repeat(26);
    const early = [await ingest(r), await ingest(r)];
    await first.until(early);
    await before.close();
    const missed = [await ingest(r), await ingest(r)];

    const second = recorder({ cursorStore: fileCursorStore(path) });
    await client(r).subscribe(second.options);
    await second.until(missed);
    const live = await ingest(r);
    await second.until([live]);
    expect([...first.delivered.items, ...second.delivered.items]).toEqual([...early, ...missed, live]);
    expect([...early, ...missed, live]).toEqual(await logIdsAfter(r, origin));
  });

  it(`loses and doubles nothing while the relay rotates push streams (RELAY_STREAM_LIFETIME=300ms)${streams(mode) ? '' : '; this mode opens no stream'}`, async () => {
    const r = await start({ RELAY_STREAM_LIFETIME: '300ms' });
    const watched = watchedFetch();
    const rec = recorder();
    await client(r, { fetch: watched.fetch }).subscribe(rec.options);
    const origin = (await r.log.head()) ?? '0'.repeat(26);
    const sent: string[] = [];
    for (let rotation = 1; rotation <= 3; rotation++) {
      sent.push(await ingest(r), await ingest(r));
      await rec.until(sent);
      if (streams(mode)) await watched.streamEnds.until((ends) => ends.filter((e) => e === 'events/stream').length >= rotation, `rotation ${rotation}`);
    }
    expect(rec.delivered.items).toEqual(sent);
    expect(sent).toEqual(await logIdsAfter(r, origin));
  });

  it('stops delivering after unsubscribe', async () => {
    const r = await start();
    const rec = recorder();
    const sub = await client(r).subscribe(rec.options);
    const first = await ingest(r);
    await rec.until([first]);
    await sub.unsubscribe();
    const second = await ingest(r);
    const other = recorder({ cursor: first });
    await client(r).subscribe(other.options);
    await other.until([second]);
    expect(rec.delivered.items).toEqual([first]);
    expect(other.delivered.items).toEqual([second]);
  });
});
