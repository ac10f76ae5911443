import { afterEach, describe, expect, it } from 'vitest';
import type { NewEvent } from '../../src/events/event.js';
import { LOG_START } from '../../src/events/ulid.js';
import type { EventLog } from '../../src/log/event-log.js';
import { newEvent } from '../support/events.js';
import type { LogFactory } from './log-factory.js';
import { logPool, seededLog } from './log-factory.js';

/** Redelivery in the EventLog contract: dead letters requeued or purged, events replayed, at or below a group's floor too. */
export function describeRedeliveryContract(backend: string, factory: LogFactory): void {
  describe(`EventLog contract: requeue, purge and replay (${backend})`, () => {
    const pool = logPool(factory);
    afterEach(() => pool.closeAll());

    /** `count` events and then `more`, every one dead-lettered by group `g` (3 leases run out, then a claim); the floor is past them all. */
    async function deadLettered(count: number, more: NewEvent[] = []) {
      const seeded = await seededLog(pool, count);
      if (more.length > 0) seeded.ids.push(...(await seeded.log.append(more)).map((r) => r.id));
      for (let i = 0; i < 3; i++) {
        await seeded.log.claim('g', { limit: 100 });
        seeded.clock.advance(10_000);
      }
      expect(await seeded.log.claim('g', { limit: 100 })).toEqual([]);
      return seeded;
    }

    const deadIds = async (log: EventLog) => (await log.deadLetters('g')).map((d) => d.event.id);
    const claimedWithCounts = async (log: EventLog, options = {}) => (await log.claim('g', options)).map((e) => [e.id, e.deliveryCount]);

    it('requeues one dead letter below the floor: claimed first, in log order, with a fresh delivery count', async () => {
      const { log, ids } = await deadLettered(3);
      const later = await log.append(newEvent());
      expect(await log.requeueDeadLetters('g', { ids: [ids[1]!] })).toEqual([ids[1]]);
      expect(await deadIds(log)).toEqual([ids[0], ids[2]]);
      expect(await log.groupState('g')).toMatchObject({ floor: ids[2], pending: 2, deadLettered: 2, oldestPending: ids[1] });
      expect((await log.peek('g')).map((e) => e.id)).toEqual([ids[1], later.id]);
      expect(await claimedWithCounts(log)).toEqual([
        [ids[1], 1],
        [later.id, 1],
      ]);
      await log.ack('g', [{ id: ids[1]!, deliveryCount: 1 }]);
      await expect(log.ack('g', [ids[1]!])).rejects.toMatchObject({ code: 'already_acked' });
      expect(await log.groupState('g')).toMatchObject({ floor: ids[2], pending: 1, leased: 1, deadLettered: 2 });
      expect((await log.deliveriesOf(ids[1]!))[0]).toMatchObject({ state: 'acked', deliveryCount: null });
    });

    it('fences, releases and dead-letters a requeued event below the floor like any other', async () => {
      const { log, ids, clock } = await deadLettered(1);
      await log.requeueDeadLetters('g', {});
      await expect(log.ack('g', [ids[0]!])).rejects.toMatchObject({ code: 'not_delivered' });
      await log.claim('g');
      await log.release('g', [{ id: ids[0]!, deliveryCount: 1 }]);
      expect(await claimedWithCounts(log)).toEqual([[ids[0], 2]]);
      clock.advance(10_000);
      expect(await claimedWithCounts(log)).toEqual([[ids[0], 3]]);
      await expect(log.ack('g', [{ id: ids[0]!, deliveryCount: 2 }])).rejects.toMatchObject({ code: 'lease_lost' });
      expect(await log.pending('g')).toEqual({ pending: 1, leased: 1, deadLettered: 0 });
      clock.advance(10_000);
      expect(await log.claim('g')).toEqual([]);
      expect(await log.deadLetters('g')).toMatchObject([{ event: { id: ids[0] }, deliveryCount: 3, lastError: 'lease expired after 3 deliveries' }]);
      expect(await log.pending('g')).toEqual({ pending: 0, leased: 0, deadLettered: 1 });
    });

    it('requeues the dead letters a filter matches, or all, at most a limit, then claims them again', async () => {
      const { log, ids } = await deadLettered(1, [newEvent({ type: 'order.shipped' }), newEvent(), newEvent({ type: 'order.shipped' })]);
      expect(await deadIds(log)).toEqual(ids);
      expect(await log.requeueDeadLetters('g', { filter: { types: ['order.*'] } })).toEqual([ids[1], ids[3]]);
      expect((await log.claim('g', { limit: 100 })).map((e) => [e.id, e.deliveryCount])).toEqual([
        [ids[1], 1],
        [ids[3], 1],
      ]);
      expect(await log.requeueDeadLetters('g', { limit: 1 })).toEqual([ids[0]]);
      expect(await log.requeueDeadLetters('g', {})).toEqual([ids[2]]);
      expect(await log.requeueDeadLetters('g', {})).toEqual([]);
      expect((await log.claim('g', { limit: 100 })).map((e) => e.id)).toEqual([ids[0], ids[2]]);
    });

    it('requeues only the named ids that are dead letters, and nothing when one is not in the log', async () => {
      const { log, ids } = await deadLettered(3);
      expect(await log.requeueDeadLetters('g', { ids: [ids[2]!, ids[0]!, ids[2]!] })).toEqual([ids[0], ids[2]]);
      expect(await log.requeueDeadLetters('g', { ids: [ids[0]!, ids[1]!], limit: 5 })).toEqual([ids[1]]);
      expect(await log.requeueDeadLetters('g', { ids: [ids[0]!] })).toEqual([]);
      const { log: other, ids: otherIds } = await deadLettered(2);
      const unknown = '01ARZ3NDEKTSV4RRFFQ69G5FAV';
      await expect(other.requeueDeadLetters('g', { ids: [otherIds[0]!, unknown] })).rejects.toMatchObject({ code: 'unknown_event', ids: [unknown] });
      await expect(other.purgeDeadLetters('g', { ids: [unknown] })).rejects.toMatchObject({ code: 'unknown_event' });
      expect(await deadIds(other)).toEqual(otherIds);
      expect(await other.requeueDeadLetters('nobody', {})).toEqual([]);
      expect(await other.groups()).toEqual(['g']);
    });

    it('purges dead letters for good: no longer listed, never delivered again', async () => {
      const { log, ids } = await deadLettered(4);
      expect(await log.purgeDeadLetters('g', { ids: [ids[1]!] })).toEqual([ids[1]]);
      expect(await log.purgeDeadLetters('g', { filter: { types: ['nothing.*'] } })).toEqual([]);
      expect(await log.purgeDeadLetters('g', { limit: 2 })).toEqual([ids[0], ids[2]]);
      expect(await deadIds(log)).toEqual([ids[3]]);
      expect(await log.purgeDeadLetters('g', {})).toEqual([ids[3]]);
      expect(await log.groupState('g')).toMatchObject({ floor: ids[3], pending: 0, deadLettered: 0 });
      expect(await log.claim('g')).toEqual([]);
      expect((await log.deliveriesOf(ids[0]!))[0]).toMatchObject({ state: 'acked' });
      await expect(log.ack('g', [ids[0]!])).rejects.toMatchObject({ code: 'already_acked' });
    });

    it('purges a dead letter above the floor as resolved, so the floor moves over it once the events before are acked', async () => {
      const { log, ids, clock } = await seededLog(pool, 3, { maxDeliveries: 1 });
      await log.claim('g', { limit: 1, leaseMs: 60_000 });
      await log.claim('g', { limit: 1, leaseMs: 1_000 });
      clock.advance(1_000);
      expect((await log.claim('g')).map((e) => e.id)).toEqual([ids[2]]);
      expect(await log.groupState('g')).toMatchObject({ floor: LOG_START, pending: 2, deadLettered: 1 });
      expect(await log.purgeDeadLetters('g', {})).toEqual([ids[1]]);
      expect(await log.pending('g')).toEqual({ pending: 2, leased: 2, deadLettered: 0 });
      await log.ack('g', [ids[0]!]);
      expect(await log.groupState('g')).toMatchObject({ floor: ids[1], pending: 1 });
    });

    it('replays an acked event and one below the floor: pending again, in log order, with a fresh count', async () => {
      const { log, ids } = await seededLog(pool, 4);
      await log.claim('g', { limit: 3 });
      await log.ack('g', [ids[0]!, ids[2]!]);
      expect(await log.groupState('g')).toMatchObject({ floor: ids[0], pending: 2 });
      expect(await log.replay('g', [ids[2]!, ids[0]!, ids[2]!])).toEqual([ids[0], ids[2]]);
      expect(await log.groupState('g')).toMatchObject({ floor: ids[0], pending: 4, leased: 1, oldestPending: ids[0] });
      expect(await claimedWithCounts(log)).toEqual([
        [ids[0], 1],
        [ids[2], 1],
        [ids[3], 1],
      ]);
      await log.ack('g', ids);
      expect(await log.groupState('g')).toMatchObject({ floor: ids[3], pending: 0 });
      expect(await log.replay('g', [ids[1]!])).toEqual([ids[1]]);
      expect(await claimedWithCounts(log)).toEqual([[ids[1], 1]]);
    });

    it('replays a leased event and a dead letter: the holder can no longer ack it, and the dead letter leaves the list', async () => {
      const { log, ids } = await deadLettered(2);
      const next = await log.append(newEvent());
      const [leased] = await log.claim('g', { limit: 1 });
      expect(leased!.id).toBe(next.id);
      expect(await log.replay('g', [next.id, ids[1]!])).toEqual([ids[1], next.id]);
      await expect(log.ack('g', [{ id: next.id, deliveryCount: 1 }])).rejects.toMatchObject({ code: 'not_delivered' });
      expect(await deadIds(log)).toEqual([ids[0]]);
      expect((await log.deliveriesOf(ids[1]!))[0]).toMatchObject({ state: 'pending', deliveryCount: 0 });
      expect(await claimedWithCounts(log)).toEqual([
        [ids[1], 1],
        [next.id, 1],
      ]);
    });

    it('replays into a group the log does not hold by creating it as a claim does, and refuses ids it does not hold', async () => {
      const { log, ids } = await seededLog(pool, 2);
      expect(await log.replay('new', [ids[1]!])).toEqual([ids[1]]);
      expect(await log.groups()).toEqual(['new']);
      expect((await log.claim('new')).map((e) => e.id)).toEqual(ids);
      const unknown = '01ARZ3NDEKTSV4RRFFQ69G5FAV';
      await expect(log.replay('other', [ids[0]!, unknown])).rejects.toMatchObject({ code: 'unknown_event', ids: [unknown] });
      expect(await log.groups()).toEqual(['new']);
      await log.trim({ maxEvents: 1 });
      await expect(log.replay('new', [ids[0]!])).rejects.toMatchObject({ code: 'unknown_event', ids: [ids[0]] });
    });

    it('drops requeued events that retention removes', async () => {
      const { log } = await deadLettered(3);
      await log.requeueDeadLetters('g', {});
      expect(await log.pending('g')).toMatchObject({ pending: 3 });
      await log.trim({ maxEvents: 0 });
      expect(await log.pending('g')).toEqual({ pending: 0, leased: 0, deadLettered: 0 });
      expect(await log.claim('g')).toEqual([]);
      const next = await log.append(newEvent());
      expect((await log.claim('g')).map((e) => e.id)).toEqual([next.id]);
    });

    it('never leases one event twice while claims race a requeue', async () => {
      const { log, ids } = await deadLettered(60);
      const racing = () => Array.from({ length: 6 }, (_, i) => log.claim('g', { limit: 1 + i }));
      const before = racing();
      const requeue = log.requeueDeadLetters('g', {});
      const after = racing();
      const again = log.requeueDeadLetters('g', {});
      expect(await requeue).toEqual(ids);
      expect(await again).toEqual([]);
      const claimed = (await Promise.all([...before, ...after])).flat();
      expect(claimed.length).toBeGreaterThan(0);
      expect(new Set(claimed.map((e) => e.id)).size).toBe(claimed.length);
      const rest = await log.claim('g', { limit: 100 });
      const all = [...claimed, ...rest];
      expect(all.map((e) => e.id).sort()).toEqual(ids);
      expect(all.every((e) => e.deliveryCount === 1)).toBe(true);
    });

    it('rejects bad selections and replays with invalid_argument', async () => {
      const { log, ids } = await deadLettered(1);
      const bad = [{ ids: [] }, { ids: [ids[0]!], filter: {} }, { limit: 0 }, { limit: 1001 }, { filter: { kinds: ['x'] } }, { extra: 1 }];
      for (const selection of bad) {
        await expect(log.requeueDeadLetters('g', selection as never)).rejects.toMatchObject({ code: 'invalid_argument' });
        await expect(log.purgeDeadLetters('g', selection as never)).rejects.toMatchObject({ code: 'invalid_argument' });
      }
      await expect(log.requeueDeadLetters('g', undefined as never)).rejects.toMatchObject({ code: 'invalid_argument' });
      await expect(log.requeueDeadLetters('', {})).rejects.toMatchObject({ code: 'invalid_argument' });
      await expect(log.replay('g', [])).rejects.toMatchObject({ code: 'invalid_argument' });
      await expect(log.replay('g', Array.from({ length: 1001 }, () => ids[0]!))).rejects.toMatchObject({ code: 'invalid_argument' });
      await expect(log.replay('g', [''])).rejects.toMatchObject({ code: 'invalid_argument' });
      await expect(log.replay('', [ids[0]!])).rejects.toMatchObject({ code: 'invalid_argument' });
      expect(await deadIds(log)).toEqual(ids);
    });
  });
}
