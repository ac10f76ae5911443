import { afterEach, describe, expect, it } from 'vitest';
import { openReader } from '../../src/delivery/reader.js';
import { LOG_START } from '../../src/events/ulid.js';
import { collect } from '../support/collect.js';
import { newEvent } from '../support/events.js';
import type { LogFactory } from './log-factory.js';
import { logPool, until } from './log-factory.js';

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

/** The one replay-then-follow path (src/delivery/reader.ts) over each backend. */
export function describeReaderContract(backend: string, factory: LogFactory): void {
  describe(`delivery reader contract: replay, follow, gaps, position (${backend})`, () => {
    const pool = logPool(factory);
    afterEach(() => pool.closeAll());

    it('delivers the backlog, then live appends, each once and in order', async () => {
      const log = await pool.create();
      const backlog = (await log.append([newEvent(), newEvent()])).map((r) => r.id);
      const r = collect(log, { after: null });
      await r.live;
      expect(r.ids()).toEqual(backlog);
      const live = (await log.append([newEvent(), newEvent()])).map((e) => e.id);
      await until(() => r.events.length === 4);
      expect(r.ids()).toEqual([...backlog, ...live]);
      expect(r.gaps).toEqual([]);
      r.reader.stop();
    });

    it('has no gap and no duplicate at the seam while 500 appends race a paged backlog', async () => {
      const log = await pool.create();
      await log.append(Array.from({ length: 200 }, () => newEvent()));
      const racing = Promise.all(
        Array.from({ length: 10 }, async () => {
          for (let i = 0; i < 30; i++) await log.append(newEvent());
        }),
      );
      const r = collect(log, { after: null, pageSize: 7 });
      await racing;
      await until(() => r.events.length >= 500);
      await settle();
      const all = (await log.read({ after: null, limit: 1000 })).events.map((e) => e.id);
      expect(r.ids()).toEqual(all);
      expect(all).toHaveLength(500);
      r.reader.stop();
    });

    it('delivers only matching events from a cursor', async () => {
      const log = await pool.create();
      const [first] = await log.append([newEvent({ type: 'order.shipped' })]);
      const r = collect(log, { after: first!.id, filter: { types: ['payment.*'] } });
      await r.live;
      await log.append([newEvent({ type: 'order.delayed' }), newEvent({ type: 'payment.failed' })]);
      await log.append(newEvent({ type: 'payment.succeeded' }));
      await until(() => r.events.length === 2);
      expect(r.events.map((e) => e.type)).toEqual(['payment.failed', 'payment.succeeded']);
      r.reader.stop();
    });

    it('moves its position past events the filter skips, up to the head', async () => {
      const log = await pool.create();
      const [match] = await log.append([newEvent({ type: 'payment.failed' })]);
      const r = collect(log, { after: null, filter: { types: ['payment.failed'] } });
      await r.live;
      expect(r.reader.position).toBe(match!.id);
      const skipped = await log.append(Array.from({ length: 50 }, () => newEvent({ type: 'order.shipped' })));
      await until(() => r.reader.position === skipped.at(-1)!.id);
      // Backlog reads move it too: a new reader from the match ends on the head, not on the match.
      const fromMatch = collect(log, { after: match!.id, filter: { types: ['payment.failed'] } });
      await fromMatch.live;
      expect(fromMatch.events).toEqual([]);
      expect(fromMatch.reader.position).toBe(await log.head());
      r.reader.stop();
      fromMatch.reader.stop();
    });

    it('reports a gap for a cursor it does not know, resuming before every event', async () => {
      const log = await pool.create();
      const [a] = await log.append([newEvent()]);
      const r = collect(log, { after: '01ARZ3NDEKTSV4RRFFQ69G5FAV' });
      await r.live;
      expect(r.gaps).toEqual([{ after: '01ARZ3NDEKTSV4RRFFQ69G5FAV', resumedAt: LOG_START }]);
      expect(r.ids()).toEqual([a!.id]);
      r.reader.stop();
    });

    it('reports the gap where it happens when retention trims past a paused reader, naming exactly the trimmed range', async () => {
      const log = await pool.create();
      const ids = (await log.append(Array.from({ length: 40 }, () => newEvent()))).map((r) => r.id);
      let release!: () => void;
      let pauses = 0;
      const r = collect(log, { after: null, pageSize: 10 }, () => {
        pauses++;
        // The first page stays unread while the log moves on and retention trims past it.
        return pauses === 1 ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve();
      });
      await until(() => pauses === 1);
      const more = (await log.append(Array.from({ length: 20 }, () => newEvent()))).map((e) => e.id);
      await log.trim({ maxEvents: 15 });
      release();
      await r.live;
      const all = [...ids, ...more];
      expect(r.gaps).toEqual([{ after: ids[9], resumedAt: all[44] }]);
      expect(r.ids()).toEqual([...all.slice(0, 10), ...all.slice(45)]);
      r.reader.stop();
    });

    it('names the head as where it resumed when retention trimmed everything', async () => {
      const log = await pool.create();
      const ids = (await log.append([newEvent(), newEvent(), newEvent()])).map((e) => e.id);
      await log.trim({ maxEvents: 0 });
      const r = collect(log, { after: ids[0]! });
      await r.live;
      expect(r.gaps).toEqual([{ after: ids[0], resumedAt: ids[2] }]);
      const next = await log.append(newEvent());
      await until(() => r.events.length === 1);
      expect(r.ids()).toEqual([next.id]);
      r.reader.stop();
    });

    it('takes no commit while the consumer holds a live batch, and reads what came meanwhile in order', async () => {
      const log = await pool.create();
      const seen: string[] = [];
      let hold: (() => void) | undefined;
      let ready!: () => void;
      const live = new Promise<void>((resolve) => (ready = resolve));
      const reader = openReader(
        log,
        { after: null },
        {
          events: (batch) => {
            for (const event of batch) seen.push(event.id);
            if (seen.length === 1) return new Promise<void>((resolve) => (hold = resolve));
          },
          gap: () => undefined,
          live: ready,
          failed: (error) => {
            throw error;
          },
        },
      );
      await live;
      const first = await log.append(newEvent());
      await until(() => hold !== undefined);
      const meanwhile = (await log.append([newEvent(), newEvent()])).map((e) => e.id);
      await settle();
      expect(seen).toEqual([first.id]);
      hold!();
      await until(() => seen.length === 3);
      expect(seen).toEqual([first.id, ...meanwhile]);
      reader.stop();
    });

    it('delivers nothing after stop()', async () => {
      const log = await pool.create();
      const r = collect(log, { after: null });
      await r.live;
      r.reader.stop();
      await log.append(newEvent());
      await settle();
      expect(r.events).toEqual([]);
    });

    it('stops and reports failed when the consumer throws', async () => {
      const log = await pool.create();
      await log.append([newEvent(), newEvent()]);
      const errors: Error[] = [];
      let calls = 0;
      openReader(
        log,
        { after: null },
        {
          events: () => {
            calls++;
            throw new Error('consumer broke');
          },
          gap: () => undefined,
          failed: (error) => void errors.push(error),
        },
      );
      await until(() => errors.length === 1);
      await log.append(newEvent());
      await settle();
      expect(calls).toBe(1);
      expect(errors[0]!.message).toBe('consumer broke');
    });
  });
}
