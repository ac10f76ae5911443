import { afterEach, describe, expect, it } from 'vitest';
import { LogError } from '../../src/log/log-error.js';
import { manualClock, newEvent } from '../support/events.js';
import type { LogFactory } from './log-factory.js';
import { logPool, seededLog } from './log-factory.js';

/** The consumer-group half of the EventLog contract: leases, acks, redelivery, dead letters. */
export function describeGroupContract(backend: string, factory: LogFactory): void {
  describe(`EventLog contract: consumer groups (${backend})`, () => {
    const pool = logPool(factory);
    afterEach(() => pool.closeAll());

    const seeded = (count: number) => seededLog(pool, count);

    it('starts a new group at the beginning of the retained log', async () => {
      const { log, ids } = await seeded(3);
      const claimed = await log.claim('agents');
      expect(claimed.map((e) => e.id)).toEqual(ids);
      expect(claimed.every((e) => e.deliveryCount === 1)).toBe(true);
    });

    it('keeps serving a group after retention removed every event', async () => {
      const { log, ids } = await seeded(3);
      await log.ack('agents', (await log.claim('agents', { limit: 2 })).map((e) => e.id));
      await log.trim({ maxEvents: 0 });
      await log.createGroup('late', { from: 'now' });
      const next = (await log.append([newEvent(), newEvent()])).map((r) => r.id);
      expect(await log.pending('agents')).toMatchObject({ pending: 2 });
      expect((await log.claim('agents')).map((e) => e.id)).toEqual(next);
      expect((await log.claim('late')).map((e) => e.id)).toEqual(next);
      expect(next[0]! > ids[2]!).toBe(true);
    });

    it('starts a group created from "now" after the current head', async () => {
      const { log } = await seeded(3);
      await log.createGroup('late', { from: 'now' });
      const next = await log.append(newEvent());
      expect((await log.claim('late')).map((e) => e.id)).toEqual([next.id]);
    });

    it('leases events in log order up to the limit, never the same event twice', async () => {
      const { log, ids } = await seeded(7);
      const first = await log.claim('g', { limit: 3 });
      const second = await log.claim('g', { limit: 3 });
      const third = await log.claim('g', { limit: 3 });
      expect(first.map((e) => e.id)).toEqual(ids.slice(0, 3));
      expect(second.map((e) => e.id)).toEqual(ids.slice(3, 6));
      expect(third.map((e) => e.id)).toEqual(ids.slice(6));
      expect(await log.claim('g')).toEqual([]);
    });

    it('never gives two concurrent consumers the same event', async () => {
      const { log, ids } = await seeded(200);
      const batches = await Promise.all(Array.from({ length: 20 }, (_, i) => log.claim('g', { limit: 1 + (i % 13) })));
      const claimed = batches.flat().map((e) => e.id);
      expect(new Set(claimed).size).toBe(claimed.length);
      const rest = await log.claim('g', { limit: 100 });
      const all = [...claimed, ...rest.map((e) => e.id), ...(await log.claim('g', { limit: 100 })).map((e) => e.id)];
      expect(all.sort()).toEqual(ids);
    });

    it('redelivers an event whose lease expired, with its delivery count', async () => {
      const { log, ids, clock } = await seeded(2);
      await log.claim('g', { limit: 1 });
      clock.advance(9_999);
      expect((await log.claim('g')).map((e) => e.id)).toEqual([ids[1]]);
      clock.advance(2);
      const again = await log.claim('g');
      expect(again.map((e) => [e.id, e.deliveryCount])).toEqual([[ids[0], 2]]);
    });

    it('honours a per-claim lease length', async () => {
      const { log, clock } = await seeded(1);
      const [leased] = await log.claim('g', { leaseMs: 2_000 });
      expect(leased!.leaseExpiresAt).toBe(clock.now() + 2_000);
      clock.advance(2_000);
      expect(await log.claim('g')).toHaveLength(1);
    });

    it('forgets acked events and counts what is pending and leased', async () => {
      const { log, ids, clock } = await seeded(5);
      expect(await log.pending('g')).toEqual({ pending: 5, leased: 0, deadLettered: 0 });
      await log.claim('g', { limit: 3 });
      await log.ack('g', [ids[0]!, ids[2]!]);
      expect(await log.pending('g')).toEqual({ pending: 3, leased: 1, deadLettered: 0 });
      clock.advance(10_000);
      expect((await log.claim('g')).map((e) => e.id)).toEqual([ids[1], ids[3], ids[4]]);
      await log.ack('g', [ids[1]!, ids[3]!, ids[4]!]);
      expect(await log.pending('g')).toEqual({ pending: 0, leased: 0, deadLettered: 0 });
      clock.advance(60_000);
      expect(await log.claim('g')).toEqual([]);
    });

    it('refuses to ack unknown, undelivered or already-acked ids, and then acks nothing', async () => {
      const { log, ids } = await seeded(3);
      await log.claim('g', { limit: 2 });
      const attempt = (list: string[]) => log.ack('g', list).catch((e: unknown) => e as LogError);
      expect(await attempt(['01ARZ3NDEKTSV4RRFFQ69G5FAV'])).toMatchObject({ code: 'unknown_event' });
      expect(await attempt([ids[2]!])).toMatchObject({ code: 'not_delivered', ids: [ids[2]] });
      expect(await attempt([ids[0]!, ids[2]!])).toMatchObject({ code: 'not_delivered' });
      expect(await log.pending('g')).toMatchObject({ pending: 3, leased: 2 });
      await log.ack('g', [ids[0]!]);
      expect(await attempt([ids[0]!])).toMatchObject({ code: 'already_acked' });
      expect(await log.ack('other', [ids[1]!]).catch((e: unknown) => e)).toMatchObject({ code: 'not_delivered' });
      await expect(log.ack('g', [])).rejects.toMatchObject({ code: 'invalid_argument' });
    });

    it('accepts an ack after the lease ended, as long as nobody acked it', async () => {
      const { log, ids, clock } = await seeded(1);
      await log.claim('g');
      clock.advance(60_000);
      await log.ack('g', [ids[0]!]);
      expect(await log.claim('g')).toEqual([]);
    });

    it('refuses a fenced ack from a lease that ended and was claimed again, and takes the new holder\'s', async () => {
      const { log, ids, clock } = await seeded(1);
      const [first] = await log.claim('g', { leaseMs: 1_000 });
      clock.advance(1_000);
      const [second] = await log.claim('g');
      expect([first!.deliveryCount, second!.deliveryCount]).toEqual([1, 2]);
      const stale = await log.ack('g', [{ id: ids[0]!, deliveryCount: 1 }]).catch((e: unknown) => e as LogError);
      expect(stale).toBeInstanceOf(LogError);
      expect(stale).toMatchObject({
        code: 'lease_lost',
        ids: [ids[0]],
        message: `cannot acknowledge ${ids[0]}: it was re-delivered (delivery 2) after your lease (delivery 1) ended; the new holder acknowledges it; nothing was changed`,
      });
      expect(await log.pending('g')).toEqual({ pending: 1, leased: 1, deadLettered: 0 });
      await log.ack('g', [{ id: ids[0]!, deliveryCount: 2 }]);
      expect(await log.pending('g')).toEqual({ pending: 0, leased: 0, deadLettered: 0 });
      expect(await log.ack('g', [{ id: ids[0]!, deliveryCount: 1 }]).catch((e: unknown) => e)).toMatchObject({ code: 'already_acked' });
    });

    it('accepts a fenced ack after the lease ended when nobody claimed the event again', async () => {
      const { log, ids, clock } = await seeded(2);
      const [leased] = await log.claim('g', { limit: 1 });
      clock.advance(60_000);
      await log.ack('g', [{ id: leased!.id, deliveryCount: leased!.deliveryCount }]);
      expect((await log.claim('g')).map((e) => [e.id, e.deliveryCount])).toEqual([[ids[1], 1]]);
    });

    it('refuses a delivery count the event never reached, and counts below 1', async () => {
      const { log, ids } = await seeded(1);
      await log.claim('g');
      expect(await log.ack('g', [{ id: ids[0]!, deliveryCount: 3 }]).catch((e: unknown) => e)).toMatchObject({
        code: 'lease_lost',
        message: `cannot acknowledge ${ids[0]}: it is at delivery 1, so delivery 3 was never handed out; nothing was changed`,
      });
      await expect(log.ack('g', [{ id: ids[0]!, deliveryCount: 0 }])).rejects.toMatchObject({ code: 'invalid_argument' });
      expect(await log.pending('g')).toMatchObject({ pending: 1, leased: 1 });
    });

    it('refuses a whole batch, fenced or not, when one of its leases was lost', async () => {
      const { log, ids, clock } = await seeded(3);
      await log.claim('g', { limit: 2 });
      clock.advance(10_000);
      const again = await log.claim('g');
      expect(again.map((e) => e.deliveryCount)).toEqual([2, 2, 1]);
      const batch = [ids[2]!, { id: ids[0]!, deliveryCount: 1 }, { id: ids[1]!, deliveryCount: 2 }];
      const refused = await log.ack('g', batch).catch((e: unknown) => e as LogError);
      expect(refused).toMatchObject({ code: 'lease_lost', ids: [ids[0]] });
      expect(await log.pending('g')).toEqual({ pending: 3, leased: 3, deadLettered: 0 });
      const twoStale = (await log.ack('g', [{ id: ids[0]!, deliveryCount: 1 }, { id: ids[1]!, deliveryCount: 1 }]).catch((e: unknown) => e)) as LogError;
      expect(twoStale).toMatchObject({ code: 'lease_lost', ids: [ids[0], ids[1]] });
      expect(twoStale.message).toContain(`${ids[1]} was re-delivered (delivery 2) after your lease (delivery 1) ended`);
      await log.ack('g', again.map((e) => ({ id: e.id, deliveryCount: e.deliveryCount })));
      expect(await log.pending('g')).toEqual({ pending: 0, leased: 0, deadLettered: 0 });
    });

    it('fences a release the same way', async () => {
      const { log, ids, clock } = await seeded(1);
      await log.claim('g');
      clock.advance(10_000);
      await log.claim('g');
      expect(await log.release('g', [{ id: ids[0]!, deliveryCount: 1 }]).catch((e: unknown) => e)).toMatchObject({
        code: 'lease_lost',
        message: `cannot release ${ids[0]}: it was re-delivered (delivery 2) after your lease (delivery 1) ended; the new holder acknowledges it; nothing was changed`,
      });
      expect(await log.claim('g')).toEqual([]);
      await log.release('g', [{ id: ids[0]!, deliveryCount: 2 }]);
      expect((await log.claim('g')).map((e) => e.deliveryCount)).toEqual([3]);
    });

    it('makes released events claimable at once, keeping their delivery count', async () => {
      const { log, ids } = await seeded(2);
      await log.claim('g');
      await log.release('g', [ids[1]!]);
      const again = await log.claim('g');
      expect(again.map((e) => [e.id, e.deliveryCount])).toEqual([[ids[1], 2]]);
    });

    it('dead-letters an event after maxDeliveries, lists and counts it, and moves on', async () => {
      const { log, ids, clock } = await seeded(2);
      for (let i = 1; i <= 3; i++) {
        const [e] = await log.claim('g', { limit: 1 });
        expect([e!.id, e!.deliveryCount]).toEqual([ids[0], i]);
        clock.advance(10_000);
      }
      const next = await log.claim('g', { limit: 1 });
      expect(next.map((e) => e.id)).toEqual([ids[1]]);
      expect(await log.pending('g')).toEqual({ pending: 1, leased: 1, deadLettered: 1 });
      const dead = await log.deadLetters('g');
      expect(dead.map((d) => [d.event.id, d.deliveryCount, d.deadLetteredAt, d.lastError])).toEqual([[ids[0], 3, clock.now(), 'lease expired after 3 deliveries']]);
      expect(await log.ack('g', [ids[0]!]).catch((e: unknown) => e)).toMatchObject({ code: 'dead_lettered' });
    });

    it('leaves events that do not match a claim filter pending for other claimers', async () => {
      const clock = manualClock();
      const log = await pool.create({ now: clock.now });
      const [pay, ship, pay2] = await log.append([
        newEvent({ type: 'payment.failed' }),
        newEvent({ type: 'order.shipped' }),
        newEvent({ type: 'payment.succeeded' }),
      ]);
      const payments = await log.claim('g', { filter: { types: ['payment.*'] } });
      expect(payments.map((e) => e.id)).toEqual([pay!.id, pay2!.id]);
      await log.ack('g', [pay!.id, pay2!.id]);
      expect(await log.pending('g')).toMatchObject({ pending: 1 });
      expect((await log.claim('g')).map((e) => e.id)).toEqual([ship!.id]);
    });

    it.each([
      ['a prefix glob', ['payment.*']],
      ['a suffix glob', ['*.shipped']],
      ['stars between literal parts', ['p*y*t.*ed', 'o*r.s*']],
      ['many stars and a character nothing has', [`${'*'.repeat(60)}!`]],
      ['a subject-shaped glob with regex and Lua pattern characters', ['order.(%d+)*', '*[x]*']],
    ])('claims with %s exactly what a read with the same filter returns', async (_what, types) => {
      const log = await pool.create();
      const stored = ['payment.failed', 'order.shipped', 'payment.succeeded', 'order.(%d+).x', 'ticket[x]', 'order.shipped.late!'];
      await log.append(stored.map((type) => newEvent({ type })));
      const read = (await log.read({ after: null, filter: { types } })).events.map((e) => e.id);
      const claimed = (await log.claim('g', { filter: { types }, limit: 100 })).map((e) => e.id);
      expect(claimed).toEqual(read);
    });

    it('peeks at what the next claim would lease without leasing it or creating the group', async () => {
      const { log, ids, clock } = await seeded(3);
      expect((await log.peek('g', { limit: 2 })).map((e) => e.id)).toEqual(ids.slice(0, 2));
      await log.claim('g', { limit: 1 });
      expect((await log.peek('g')).map((e) => e.id)).toEqual(ids.slice(1));
      clock.advance(10_000);
      expect((await log.peek('g')).map((e) => e.id)).toEqual(ids);
      expect(await log.peek('never-claimed')).toHaveLength(3);
      await log.append(newEvent());
      expect((await log.claim('never-claimed', { limit: 100 })).length).toBe(4);
    });

    it('gives every group every event', async () => {
      const { log, ids } = await seeded(3);
      expect((await log.claim('a')).map((e) => e.id)).toEqual(ids);
      expect((await log.claim('b')).map((e) => e.id)).toEqual(ids);
    });

    it('rejects bad group names and claim options with invalid_argument', async () => {
      const { log } = await seeded(1);
      await expect(log.claim('')).rejects.toMatchObject({ code: 'invalid_argument' });
      await expect(log.claim('g', { limit: 101 })).rejects.toMatchObject({ code: 'invalid_argument' });
      await expect(log.claim('g', { leaseMs: 10 })).rejects.toMatchObject({ code: 'invalid_argument' });
    });
  });
}
