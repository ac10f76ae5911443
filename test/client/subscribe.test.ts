import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type ClientMode, type EventClient, fileCursorStore, memoryCursorStore, type SubscribeOptions } from '../../client/index.js';
import type { Event } from '../../src/events/event.js';
import { eventClientFor, recorder } from '../support/client-harness.js';
import { type ClientTarget, targetKinds } from '../support/client-targets.js';
import { eventually, watchedFetch } from '../support/mcp-clients.js';

const streams = (mode: ClientMode) => mode === 'push' || mode === 'auto';
const cases = targetKinds.flatMap((kind) => kind.modes.map((mode) => ({ kind, mode })));

describe.each(cases)('subscribe() in $mode mode against $kind.name', ({ kind, mode }) => {
  let target: ClientTarget | undefined;
  const clients: EventClient[] = [];
  const dirs: string[] = [];
  const client = (t: ClientTarget, options: Parameters<typeof eventClientFor>[2] = {}) => {
    const c = eventClientFor(t, mode, options);
    clients.push(c);
    return c;
  };
  const start = async (options?: { streamLifetimeMs?: number }) => (target = await kind.start(options));
  /** A recorder subscribed to everything the target publishes (or to `types`). */
  const subscriber = (t: ClientTarget, overrides: Partial<SubscribeOptions> = {}, types?: string[]) => recorder({ ...t.subscription(types), ...overrides });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await target?.close();
    target = undefined;
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });

  it('delivers matching events in the server order, each exactly once', async () => {
    const t = await start();
    const rec = subscriber(t, {}, ['payment.failed', 'order.delayed']);
    const sub = await client(t).subscribe(rec.options);
    expect(sub.mode).toBe(mode === 'auto' ? 'push' : mode);
    const sent: string[] = [];
    for (const type of ['payment.failed', 'ticket.created', 'order.delayed', 'payment.failed', 'ticket.created', 'order.delayed']) {
      const id = await t.publish({ type });
      if (type !== 'ticket.created') sent.push(id);
    }
    await rec.until(sent);
    const sentinel = await t.publish({ type: 'payment.failed' });
    await rec.until([sentinel]);
    expect(rec.delivered.items).toEqual([...sent, sentinel]);
    expect(rec.errors.items).toEqual([]);
  });

  it('retries an onEvent that throws once, then delivers the event', async () => {
    const t = await start();
    const tries = new Map<string, number>();
    const rec = subscriber(t);
    rec.options.onEvent = (event: Event) => {
      const n = (tries.get(event.id) ?? 0) + 1;
      tries.set(event.id, n);
      if (n === 1) throw new Error('transient');
      rec.delivered.push(event.id);
    };
    await client(t).subscribe(rec.options);
    const sent = [await t.publish(), await t.publish()];
    await rec.until(sent);
    expect(rec.delivered.items).toEqual(sent);
    expect(sent.map((id) => tries.get(id))).toEqual([2, 2]);
    expect(rec.errors.items).toEqual([]);
  });

  it('reports an onEvent that always throws through onError, skips the event and moves on', async () => {
    const t = await start();
    const store = memoryCursorStore();
    const rec = subscriber(t, { cursorStore: store });
    rec.options.onEvent = (event: Event) => {
      if (event.customerId === 'cus_poison') throw new Error('poison');
      rec.delivered.push(event.id);
    };
    await client(t).subscribe(rec.options);
    const poison = await t.publish({ customerId: 'cus_poison' });
    const next = await t.publish();
    await rec.until([next]);
    expect(rec.delivered.items).toEqual([next]);
    expect(rec.errors.items).toEqual([expect.objectContaining({ kind: 'handler', attempts: 2, event: expect.objectContaining({ id: poison }) })]);
    if (mode === 'tools') await eventually(async () => ((await t.pending!()) === 0 ? true : undefined), 'both events acknowledged');
    else await eventually(async () => (store.cursor === t.cursorAfter(next) ? true : undefined), 'the cursor past both events');
  });

  it('resumes after a restart without loss or duplicates (cursor in a fileCursorStore; tools: the group on the relay)', async () => {
    const t = await start();
    const dir = await mkdtemp(join(tmpdir(), 'relay-client-'));
    dirs.push(dir);
    const path = join(dir, 'cursor.json');
    const first = subscriber(t, { cursorStore: fileCursorStore(path) });
    const before = client(t);
    await before.subscribe(first.options);
    const since = await t.mark();
    const early = [await t.publish(), await t.publish()];
    await first.until(early);
    await before.close();
    const missed = [await t.publish(), await t.publish()];

    const second = subscriber(t, { cursorStore: fileCursorStore(path) });
    await client(t).subscribe(second.options);
    await second.until(missed);
    const live = await t.publish();
    await second.until([live]);
    expect([...first.delivered.items, ...second.delivered.items]).toEqual([...early, ...missed, live]);
    expect([...early, ...missed, live]).toEqual(await since());
  });

  it(`loses and doubles nothing while the server rotates push streams (each ends after 300 ms)${streams(mode) ? '' : '; this mode opens no stream'}`, async () => {
    const t = await start({ streamLifetimeMs: 300 });
    const watched = watchedFetch();
    const rec = subscriber(t);
    await client(t, { fetch: watched.fetch }).subscribe(rec.options);
    const since = await t.mark();
    const sent: string[] = [];
    for (let rotation = 1; rotation <= 3; rotation++) {
      sent.push(await t.publish(), await t.publish());
      await rec.until(sent);
      if (streams(mode)) await watched.streamEnds.until((ends) => ends.filter((e) => e === 'events/stream').length >= rotation, `rotation ${rotation}`);
    }
    expect(rec.delivered.items).toEqual(sent);
    expect(sent).toEqual(await since());
  });

  it('stops delivering after unsubscribe; a new subscription from the cursor it kept gets what followed', async () => {
    const t = await start();
    const store = memoryCursorStore();
    const rec = subscriber(t, { cursorStore: store });
    const sub = await client(t).subscribe(rec.options);
    const first = await t.publish();
    await rec.until([first]);
    await sub.unsubscribe();
    const second = await t.publish();
    // Tools mode keeps no cursor: the group on the relay is its resume point.
    const other = subscriber(t, store.cursor === undefined ? {} : { cursor: store.cursor });
    await client(t).subscribe(other.options);
    await other.until([second]);
    expect(rec.delivered.items).toEqual([first]);
    expect(other.delivered.items).toEqual([second]);
  });
});
