import { afterEach, describe, expect, it } from 'vitest';
import { isUlid, LOG_START } from '../../src/events/ulid.js';
import { LogError } from '../../src/log/log-error.js';
import { manualClock, newEvent } from '../support/events.js';
import type { LogFactory } from './log-factory.js';
import { logPool } from './log-factory.js';

/** The EventLog contract (event-log.ts TSDoc): append, dedup, read, retention. */
export function describeLogContract(backend: string, factory: LogFactory): void {
  describe(`EventLog contract: append, read, retention (${backend})`, () => {
    const pool = logPool(factory);
    afterEach(() => pool.closeAll());

    describe('append', () => {
      it('assigns strictly increasing ULIDs to 1,000 concurrent appends', async () => {
        const log = await pool.create();
        const results = await Promise.all(Array.from({ length: 1000 }, () => log.append(newEvent())));
        const ids = results.map((r) => r.id);
        expect(ids.every(isUlid)).toBe(true);
        expect(new Set(ids).size).toBe(1000);
        const { events } = await log.read({ after: null, limit: 1000 });
        const logIds = events.map((e) => e.id);
        expect(logIds).toEqual([...logIds].sort());
        expect([...logIds].sort()).toEqual([...ids].sort());
        expect(await log.head()).toBe(logIds.at(-1));
      });

      it('never lets a reader see an id lower than one it already passed while appends race', async () => {
        const log = await pool.create();
        const seen: string[] = [];
        let cursor: string | null = null;
        const writers = Promise.all(
          Array.from({ length: 20 }, async () => {
            for (let i = 0; i < 25; i++) await log.append(newEvent());
          }),
        );
        let done = false;
        void writers.then(() => (done = true));
        while (!done || (await log.read({ after: cursor, limit: 1 })).events.length > 0) {
          const page = await log.read({ after: cursor, limit: 50 });
          for (const e of page.events) seen.push(e.id);
          cursor = page.cursor;
          await new Promise((r) => setImmediate(r));
        }
        expect(seen).toHaveLength(500);
        for (let i = 1; i < seen.length; i++) expect(seen[i]! > seen[i - 1]!).toBe(true);
      });

      it('keeps ids increasing when the clock goes backwards', async () => {
        const clock = manualClock();
        const log = await pool.create({ now: clock.now });
        const first = await log.append(newEvent());
        clock.advance(-60_000);
        const second = await log.append(newEvent());
        const third = await log.append(newEvent());
        expect(second.id > first.id).toBe(true);
        expect(third.id > second.id).toBe(true);
      });

      it('returns the existing event with duplicate: true for a repeated upstream id', async () => {
        const log = await pool.create();
        const input = newEvent();
        const first = await log.append(input);
        const again = await log.append({ ...input, data: { changed: true } });
        expect(first.duplicate).toBe(false);
        expect(again).toMatchObject({ id: first.id, duplicate: true });
        expect(again.event?.data).toEqual(input.data);
        expect((await log.read({ after: null })).events).toHaveLength(1);
      });

      it('commits exactly one of 50 concurrent appends of the same upstream event', async () => {
        const log = await pool.create();
        const input = newEvent();
        const results = await Promise.all(Array.from({ length: 50 }, () => log.append({ ...input })));
        expect(new Set(results.map((r) => r.id)).size).toBe(1);
        expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
        expect((await log.read({ after: null })).events).toHaveLength(1);
      });

      it('treats the same upstream id from two sources as two events', async () => {
        const log = await pool.create();
        const a = await log.append(newEvent({ source: 'stripe', sourceEventId: 'same' }));
        const b = await log.append(newEvent({ source: 'acme', sourceEventId: 'same' }));
        expect(a.duplicate || b.duplicate).toBe(false);
        expect(a.id).not.toBe(b.id);
      });

      it('commits a batch in order, a key repeated inside it being a duplicate of its first occurrence', async () => {
        const log = await pool.create();
        const x = newEvent();
        const results = await log.append([x, newEvent(), { ...x }, newEvent()]);
        expect(results.map((r) => r.duplicate)).toEqual([false, false, true, false]);
        expect(results[2]!.id).toBe(results[0]!.id);
        const ids = (await log.read({ after: null })).events.map((e) => e.id);
        expect(ids).toEqual([results[0]!.id, results[1]!.id, results[3]!.id]);
      });

      it('rejects an invalid event with invalid_event and commits nothing of its batch', async () => {
        const log = await pool.create();
        const bad = { ...newEvent(), source: 'Not A Source!' };
        const error = await log.append([newEvent(), bad]).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(LogError);
        expect((error as LogError).code).toBe('invalid_event');
        expect((error as LogError).message).toContain('batch item 1');
        await expect(log.append({ ...newEvent(), sourceEventId: '' })).rejects.toMatchObject({ code: 'invalid_event' });
        expect((await log.read({ after: null })).events).toHaveLength(0);
        expect(await log.head()).toBeNull();
      });

      it('fills in receivedAt and defaults occurredAt to it', async () => {
        const clock = manualClock();
        const log = await pool.create({ now: clock.now });
        const { event } = await log.append(newEvent());
        expect(event?.receivedAt).toBe(new Date(clock.now()).toISOString());
        expect(event?.occurredAt).toBe(event?.receivedAt);
      });
    });

    describe('read', () => {
      it('pages through the log in order with a cursor', async () => {
        const log = await pool.create();
        const ids = (await log.append(Array.from({ length: 25 }, () => newEvent()))).map((r) => r.id);
        const got: string[] = [];
        let cursor: string | null = null;
        let pages = 0;
        for (;;) {
          const page = await log.read({ after: cursor, limit: 10 });
          got.push(...page.events.map((e) => e.id));
          cursor = page.cursor;
          pages++;
          if (!page.hasMore) break;
        }
        expect(got).toEqual(ids);
        expect(pages).toBeGreaterThanOrEqual(3);
        expect(cursor).toBe(ids.at(-1));
      });

      it('says hasMore only when a matching event lies beyond the page: a page that drains the log says false', async () => {
        const log = await pool.create();
        const ids = (
          await log.append([
            newEvent({ type: 'payment.failed' }),
            newEvent({ type: 'payment.failed' }),
            newEvent({ type: 'order.shipped' }),
            newEvent({ type: 'payment.failed' }),
            newEvent({ type: 'order.shipped' }),
          ])
        ).map((r) => r.id);
        expect(await log.read({ after: null, limit: 5 })).toMatchObject({ cursor: ids[4], hasMore: false });
        expect(await log.read({ after: null, limit: 4 })).toMatchObject({ cursor: ids[3], hasMore: true });
        const payments = { types: ['payment.failed'] };
        // Two of three: the third is beyond the page, so the cursor stops right before it (past the order between).
        const first = await log.read({ after: null, limit: 2, filter: payments });
        expect(first).toMatchObject({ cursor: ids[2], hasMore: true });
        // The last match: only non-matching events follow, so the page drained the log and the cursor passes them.
        expect(await log.read({ after: first.cursor, limit: 1, filter: payments })).toMatchObject({ cursor: ids[4], hasMore: false });
      });

      it('returns nothing, the same cursor and hasMore false at the head', async () => {
        const log = await pool.create();
        const { id } = await log.append(newEvent());
        expect(await log.read({ after: id })).toEqual({ events: [], cursor: id, truncated: false, hasMore: false });
      });

      it('reads an empty log from the beginning with a null cursor', async () => {
        const log = await pool.create();
        expect(await log.read({ after: null })).toEqual({ events: [], cursor: null, truncated: false, hasMore: false });
      });

      it('filters by type glob, source and subject, and moves the cursor past what did not match', async () => {
        const log = await pool.create();
        const results = await log.append([
          newEvent({ type: 'payment.failed', source: 'stripe', subject: 'customer:a' }),
          newEvent({ type: 'order.shipped', source: 'shopify', subject: 'order:1' }),
          newEvent({ type: 'payment.succeeded', source: 'stripe', subject: 'customer:b' }),
          newEvent({ type: 'ticket.created', source: 'zendesk', subject: 'ticket:9' }),
        ]);
        const ids = results.map((r) => r.id);
        const payments = await log.read({ after: null, filter: { types: ['payment.*'] } });
        expect(payments.events.map((e) => e.id)).toEqual([ids[0], ids[2]]);
        expect(payments.cursor).toBe(ids[3]);
        const bySource = await log.read({ after: null, filter: { sources: ['shopify', 'zendesk'] } });
        expect(bySource.events.map((e) => e.id)).toEqual([ids[1], ids[3]]);
        const bySubject = await log.read({ after: null, filter: { subjects: ['customer:b'], types: ['*'] } });
        expect(bySubject.events.map((e) => e.id)).toEqual([ids[2]]);
        const none = await log.read({ after: ids[0]!, filter: { types: ['refund.updated'] } });
        expect(none).toEqual({ events: [], cursor: ids[3], truncated: false, hasMore: false });
      });

      it.each([
        ['not a ULID', 'garbage'],
        ['an unknown ULID', '01ARZ3NDEKTSV4RRFFQ69G5FAV'],
        ['a ULID-shaped string out of range', '8ZZZZZZZZZZZZZZZZZZZZZZZZZ'],
      ])('reads from the oldest retained event with truncated: true after %s', async (_what, cursor) => {
        const log = await pool.create();
        const ids = (await log.append([newEvent(), newEvent()])).map((r) => r.id);
        const page = await log.read({ after: cursor });
        expect(page.truncated).toBe(true);
        // Nothing was ever trimmed: the read resumed before every event.
        expect(page.resumedAt).toBe(LOG_START);
        expect(page.events.map((e) => e.id)).toEqual(ids);
      });

      it('reads the same events as JSON text with readSerialized, cursor rules included', async () => {
        const log = await pool.create();
        const ids = (await log.append([newEvent({ type: 'order.shipped' }), newEvent(), newEvent({ subject: undefined })])).map((r) => r.id);
        const options = { after: ids[0]!, filter: { types: ['payment.*'] } };
        const plain = await log.read(options);
        const serialized = await log.readSerialized(options);
        expect(serialized.events.map((e) => JSON.parse(e.json))).toEqual(plain.events);
        expect(serialized.events.map(({ id, type, source, subject }) => ({ id, type, source, subject }))).toEqual(
          plain.events.map(({ id, type, source, subject }) => ({ id, type, source, subject })),
        );
        expect({ ...serialized, events: [] }).toEqual({ ...plain, events: [] });
        expect((await log.readSerialized({ after: 'bogus' })).truncated).toBe(true);
      });

      it('reads from LOG_START like from null, and says truncated once anything was trimmed', async () => {
        const log = await pool.create();
        const ids = (await log.append([newEvent(), newEvent()])).map((r) => r.id);
        expect(await log.read({ after: LOG_START })).toMatchObject({ truncated: false, events: [{ id: ids[0] }, { id: ids[1] }] });
        await log.trim({ maxEvents: 1 });
        expect(await log.read({ after: LOG_START })).toMatchObject({ truncated: true, resumedAt: ids[0], events: [{ id: ids[1] }] });
      });

      it('rejects bad read options with invalid_argument', async () => {
        const log = await pool.create();
        await expect(log.read({ after: null, limit: 0 })).rejects.toMatchObject({ code: 'invalid_argument' });
        await expect(log.read({ after: null, filter: { types: [''] } })).rejects.toMatchObject({ code: 'invalid_argument' });
      });
    });

    describe('retention', () => {
      it('keeps the newest events by count and reports truncated for a trimmed cursor', async () => {
        const log = await pool.create();
        expect(await log.retained()).toBe(0);
        const ids = (await log.append(Array.from({ length: 10 }, () => newEvent()))).map((r) => r.id);
        expect(await log.retained()).toBe(10);
        expect((await log.trim({ maxEvents: 4 })).removed).toBe(6);
        expect(await log.retained()).toBe(4);
        const fromStart = await log.read({ after: null });
        expect(fromStart.events.map((e) => e.id)).toEqual(ids.slice(6));
        const stale = await log.read({ after: ids[2]! });
        expect(stale.truncated).toBe(true);
        // What the reader missed is exactly (after, resumedAt]: the trimmed ids after its cursor.
        expect(stale.resumedAt).toBe(ids[5]);
        expect(stale.events.map((e) => e.id)).toEqual(ids.slice(6));
        const seamless = await log.read({ after: ids[5]! });
        expect(seamless.truncated).toBe(false);
        expect(seamless.resumedAt).toBeUndefined();
        expect(seamless.events.map((e) => e.id)).toEqual(ids.slice(6));
      });

      it('drops events older than maxAgeMs', async () => {
        const clock = manualClock();
        const log = await pool.create({ now: clock.now });
        await log.append([newEvent(), newEvent()]);
        clock.advance(60_000);
        const recent = await log.append(newEvent());
        expect((await log.trim({ maxAgeMs: 30_000 })).removed).toBe(2);
        expect((await log.read({ after: null })).events.map((e) => e.id)).toEqual([recent.id]);
      });

      it('keeps dedup keys for the dedup window after their events are trimmed', async () => {
        const clock = manualClock();
        const log = await pool.create({ now: clock.now, dedupWindowMs: 3_600_000 });
        const input = newEvent();
        const original = await log.append(input);
        await log.trim({ maxEvents: 0 });
        const again = await log.append({ ...input });
        expect(again).toEqual({ id: original.id, duplicate: true, event: null });
        clock.advance(3_600_001);
        expect((await log.trim({})).dedupKeysRemoved).toBe(1);
        expect((await log.append({ ...input })).duplicate).toBe(false);
      });

      it('keeps the head and continues seamlessly after everything was trimmed', async () => {
        const log = await pool.create();
        const last = (await log.append([newEvent(), newEvent()]))[1]!;
        await log.trim({ maxEvents: 0 });
        expect(await log.head()).toBe(last.id);
        expect(await log.retained()).toBe(0);
        const next = await log.append(newEvent());
        expect(await log.retained()).toBe(1);
        expect(next.id > last.id).toBe(true);
        const page = await log.read({ after: last.id });
        expect(page).toMatchObject({ truncated: false, events: [{ id: next.id }] });
      });
    });

    it('refuses every call once closed', async () => {
      const log = await pool.create();
      await log.close();
      await expect(log.append(newEvent())).rejects.toMatchObject({ code: 'closed' });
      await expect(log.read({ after: null })).rejects.toMatchObject({ code: 'closed' });
    });
  });
}
