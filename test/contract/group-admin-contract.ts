import { afterEach, describe, expect, it } from 'vitest';
import { LOG_START, ulidTime } from '../../src/events/ulid.js';
import type { EventLog } from '../../src/log/event-log.js';
import { newEvent } from '../support/events.js';
import type { LogFactory } from './log-factory.js';
import { logPool, seededLog } from './log-factory.js';

const HOUR = 3_600_000;

/** The operator's view of groups in the EventLog contract: get, groups, groupState, deliveriesOf, seekGroup, deleteGroup. */
export function describeGroupAdminContract(backend: string, factory: LogFactory): void {
  describe(`EventLog contract: group state, seek and delete (${backend})`, () => {
    const pool = logPool(factory);
    afterEach(() => pool.closeAll());
    const seeded = (count: number) => seededLog(pool, count);

    /** Leases everything pending and lets the leases run out, `rounds` times; one more claim dead-letters what got 3 deliveries. */
    async function expire(log: EventLog, advance: (ms: number) => void, group: string, rounds: number) {
      for (let i = 0; i < rounds; i++) {
        await log.claim(group, { limit: 100 });
        advance(10_000);
      }
    }

    it('gets one retained event by id, and undefined for any other id', async () => {
      const { log, ids } = await seeded(3);
      expect(await log.get(ids[1]!)).toMatchObject({ id: ids[1], type: 'payment.failed' });
      expect(await log.get('01ARZ3NDEKTSV4RRFFQ69G5FAV')).toBeUndefined();
      expect(await log.get('not-an-id')).toBeUndefined();
      await log.trim({ maxEvents: 1 });
      expect(await log.get(ids[0]!)).toBeUndefined();
      expect(await log.get(ids[2]!)).toMatchObject({ id: ids[2] });
      await expect(log.get('')).rejects.toMatchObject({ code: 'invalid_argument' });
      await expect(log.get(42 as unknown as string)).rejects.toMatchObject({ code: 'invalid_argument' });
    });

    it('lists the groups created or claimed from, in name order, and not those only peeked at or counted', async () => {
      const { log } = await seeded(2);
      expect(await log.groups()).toEqual([]);
      await log.claim('zeta');
      await log.createGroup('alpha', { from: 'now' });
      await log.claim('Mid');
      await log.peek('peeked');
      await log.pending('counted');
      expect(await log.groups()).toEqual(['Mid', 'alpha', 'zeta']);
    });

    it('reports where a group stands: floor, counts and the next event a claim leases', async () => {
      const { log, ids, clock } = await seeded(4);
      expect(await log.groupState('g')).toBeUndefined();
      await log.createGroup('g');
      expect(await log.groupState('g')).toEqual({ floor: LOG_START, pending: 4, leased: 0, deadLettered: 0, oldestPending: ids[0] });
      await log.claim('g', { limit: 3 });
      await log.ack('g', [ids[0]!, ids[2]!]);
      expect(await log.groupState('g')).toEqual({ floor: ids[0], pending: 2, leased: 1, deadLettered: 0, oldestPending: ids[3] });
      clock.advance(10_000);
      expect(await log.groupState('g')).toMatchObject({ leased: 0, oldestPending: ids[1] });
      await expire(log, clock.advance, 'g', 2);
      expect(await log.groupState('g')).toMatchObject({ oldestPending: ids[3] });
      await log.claim('g');
      expect(await log.groupState('g')).toEqual({ floor: ids[2], pending: 1, leased: 1, deadLettered: 1, oldestPending: null });
      await expect(log.groupState('')).rejects.toMatchObject({ code: 'invalid_argument' });
    });

    it('reports the last trimmed id as the floor of a group whose events were trimmed', async () => {
      const { log, ids } = await seeded(3);
      await log.createGroup('g');
      await log.trim({ maxEvents: 1 });
      expect(await log.groupState('g')).toEqual({ floor: ids[1], pending: 1, leased: 0, deadLettered: 0, oldestPending: ids[2] });
      await log.seekGroup('g', ids[1]!);
      expect((await log.claim('g')).map((e) => e.id)).toEqual([ids[2]]);
    });

    it('tells what every group holds about one event', async () => {
      const { log, ids, clock } = await seeded(3);
      await log.claim('billing', { limit: 1 });
      await log.claim('audit', { limit: 2 });
      await log.ack('audit', [ids[0]!]);
      const at = clock.now();
      expect(await log.deliveriesOf(ids[0]!)).toEqual([
        { group: 'audit', state: 'acked', deliveryCount: null, leaseExpiresAt: null, deadLetteredAt: null },
        { group: 'billing', state: 'leased', deliveryCount: 1, leaseExpiresAt: at + 10_000, deadLetteredAt: null },
      ]);
      expect(await log.deliveriesOf(ids[2]!)).toEqual([
        { group: 'audit', state: 'pending', deliveryCount: 0, leaseExpiresAt: null, deadLetteredAt: null },
        { group: 'billing', state: 'pending', deliveryCount: 0, leaseExpiresAt: null, deadLetteredAt: null },
      ]);
      await log.ack('billing', [ids[0]!]);
      await log.claim('billing', { limit: 1 });
      await log.ack('billing', [ids[1]!]);
      clock.advance(10_000);
      expect(await log.deliveriesOf(ids[1]!)).toEqual([
        { group: 'audit', state: 'pending', deliveryCount: 1, leaseExpiresAt: null, deadLetteredAt: null },
        { group: 'billing', state: 'acked', deliveryCount: null, leaseExpiresAt: null, deadLetteredAt: null },
      ]);
      await expire(log, clock.advance, 'audit', 2);
      await log.claim('audit');
      const dead = await log.deliveriesOf(ids[1]!);
      expect(dead[0]).toEqual({ group: 'audit', state: 'dead', deliveryCount: 3, leaseExpiresAt: null, deadLetteredAt: clock.now() });
      await expect(log.deliveriesOf('01ARZ3NDEKTSV4RRFFQ69G5FAV')).rejects.toMatchObject({ code: 'unknown_event', ids: ['01ARZ3NDEKTSV4RRFFQ69G5FAV'] });
      await expect(log.deliveriesOf('')).rejects.toMatchObject({ code: 'invalid_argument' });
    });

    it('seeks a group back an hour, to an id, and forward to the head', async () => {
      const { log, ids, clock } = await seeded(3);
      for (const size of [3, 2]) {
        clock.advance(HOUR);
        ids.push(...(await log.append(Array.from({ length: size }, () => newEvent()))).map((r) => r.id));
      }
      await log.ack('g', (await log.claim('g', { limit: 100 })).map((e) => e.id));
      expect(await log.pending('g')).toMatchObject({ pending: 0 });
      const anHourAgo = ids.filter((id) => ulidTime(id) <= clock.now() - HOUR).at(-1)!;
      expect(anHourAgo).toBe(ids[5]);
      await log.seekGroup('g', anHourAgo);
      expect(await log.groupState('g')).toEqual({ floor: ids[5], pending: 2, leased: 0, deadLettered: 0, oldestPending: ids[6] });
      const again = await log.claim('g');
      expect(again.map((e) => [e.id, e.deliveryCount])).toEqual([
        [ids[6], 1],
        [ids[7], 1],
      ]);
      await log.seekGroup('g', (await log.head())!);
      expect(await log.groupState('g')).toEqual({ floor: ids[7], pending: 0, leased: 0, deadLettered: 0, oldestPending: null });
      await expect(log.ack('g', [ids[6]!])).rejects.toMatchObject({ code: 'already_acked' });
      const next = await log.append(newEvent());
      expect((await log.claim('g')).map((e) => e.id)).toEqual([next.id]);
      await log.seekGroup('g', LOG_START);
      expect((await log.claim('g', { limit: 100 })).map((e) => [e.id, e.deliveryCount])).toEqual([...ids, next.id].map((id) => [id, 1]));
    });

    it('keeps dead letters at or before the seek point, makes those after it pending, and drops leases', async () => {
      const { log, ids, clock } = await seeded(4);
      await expire(log, clock.advance, 'g', 3);
      await log.claim('g');
      expect((await log.deadLetters('g')).map((d) => d.event.id)).toEqual(ids);
      await log.seekGroup('g', ids[1]!);
      expect((await log.deadLetters('g')).map((d) => d.event.id)).toEqual(ids.slice(0, 2));
      const leased = await log.claim('g', { limit: 1 });
      expect(leased.map((e) => [e.id, e.deliveryCount])).toEqual([[ids[2], 1]]);
      await log.seekGroup('g', ids[0]!);
      expect(await log.groupState('g')).toEqual({ floor: ids[0], pending: 3, leased: 0, deadLettered: 1, oldestPending: ids[1] });
      await expect(log.ack('g', [{ id: ids[2]!, deliveryCount: 1 }])).rejects.toMatchObject({ code: 'not_delivered' });
      expect((await log.claim('g')).map((e) => [e.id, e.deliveryCount])).toEqual(ids.slice(1).map((id) => [id, 1]));
    });

    it('creates the group it seeks, and refuses a position the log does not know', async () => {
      const { log, ids } = await seeded(3);
      await log.seekGroup('fresh', ids[0]!);
      expect(await log.groups()).toEqual(['fresh']);
      expect((await log.peek('fresh')).map((e) => e.id)).toEqual(ids.slice(1));
      await log.trim({ maxEvents: 0 });
      await log.seekGroup('empty', (await log.head())!);
      expect(await log.groupState('empty')).toEqual({ floor: ids[2], pending: 0, leased: 0, deadLettered: 0, oldestPending: null });
      await expect(log.seekGroup('fresh', ids[0]!)).rejects.toMatchObject({ code: 'unknown_event', ids: [ids[0]] });
      await expect(log.seekGroup('other', 'not-an-id')).rejects.toMatchObject({ code: 'unknown_event' });
      expect(await log.groups()).toEqual(['empty', 'fresh']);
      await expect(log.seekGroup('fresh', '')).rejects.toMatchObject({ code: 'invalid_argument' });
      await expect(log.seekGroup('', ids[2]!)).rejects.toMatchObject({ code: 'invalid_argument' });
      await expect(log.seekGroup('fresh', null as unknown as string)).rejects.toMatchObject({ code: 'invalid_argument' });
    });

    it('deletes a group with its deliveries and dead letters; a claim later starts it afresh', async () => {
      const { log, ids, clock } = await seeded(2);
      await expire(log, clock.advance, 'g', 3);
      await log.claim('g');
      await log.claim('other', { limit: 1 });
      expect(await log.deleteGroup('g')).toBe(true);
      expect(await log.groups()).toEqual(['other']);
      expect(await log.groupState('g')).toBeUndefined();
      expect(await log.deadLetters('g')).toEqual([]);
      expect(await log.pending('g')).toEqual({ pending: 2, leased: 0, deadLettered: 0 });
      expect(await log.deleteGroup('g')).toBe(false);
      expect((await log.deliveriesOf(ids[0]!)).map((d) => d.group)).toEqual(['other']);
      expect((await log.claim('g')).map((e) => [e.id, e.deliveryCount])).toEqual(ids.map((id) => [id, 1]));
      expect(await log.pending('other')).toMatchObject({ pending: 2, leased: 1 });
      await expect(log.deleteGroup('')).rejects.toMatchObject({ code: 'invalid_argument' });
    });

    it('refuses every operator call once closed', async () => {
      const { log, ids } = await seeded(1);
      await log.close();
      const calls = [() => log.get(ids[0]!), () => log.groups(), () => log.groupState('g'), () => log.deliveriesOf(ids[0]!), () => log.seekGroup('g', LOG_START), () => log.deleteGroup('g')];
      for (const call of calls) await expect(call()).rejects.toMatchObject({ code: 'closed' });
    });
  });
}
