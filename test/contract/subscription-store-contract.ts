import { afterEach, describe, expect, it } from 'vitest';
import type { WebhookSubscription, WebhookSubscriptionStore } from '../../src/outbound/subscription-store.js';

/**
 * Fresh, empty data of one backend. `open` opens a store on it; each call opens another
 * store object (the memory backend: the same one again, the only one that sees its data).
 */
export type SubscriptionStorageFactory = () => { open(): WebhookSubscriptionStore };

/** What a backend keeps beyond one store object. */
export interface SubscriptionStoreTraits {
  /** Whether the data outlives closing every store, and a store opened later sees it. */
  durable: boolean;
  /** Whether two opened stores share leases (Redis); the in-process backends keep them per store. */
  sharedLeases: boolean;
}

const T0 = Date.UTC(2026, 0, 1);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A subscription as `events/subscribe` creates it: nothing delivered yet. */
export function subscription(id: string, overrides: Partial<WebhookSubscription> = {}): WebhookSubscription {
  return {
    id,
    principal: 'alice',
    url: 'https://hooks.example.com/in',
    name: 'orders',
    arguments: '{"types":["order.*"]}',
    createdAt: T0,
    secrets: [{ secret: 'whsec_AAAA', until: null }],
    expiresAt: null,
    active: true,
    verifiedAt: null,
    cursor: '',
    lastDeliveryAt: null,
    lastError: null,
    failedSince: null,
    throttledUntil: null,
    inFlight: null,
    replayFrom: null,
    ...overrides,
  };
}

/** The WebhookSubscriptionStore contract (its TSDoc), once, for every backend. */
export function describeSubscriptionStoreContract(backend: string, factory: SubscriptionStorageFactory, traits: SubscriptionStoreTraits): void {
  describe(`WebhookSubscriptionStore contract (${backend})`, () => {
    const open = new Set<WebhookSubscriptionStore>();
    const storage = () => {
      const data = factory();
      return { open: () => track(data.open()) };
    };
    /** A second store object on the same data when leases are shared, else the first one. */
    const second = (data: { open(): WebhookSubscriptionStore }, first: WebhookSubscriptionStore) => (traits.sharedLeases ? data.open() : first);
    const track = (store: WebhookSubscriptionStore) => {
      open.add(store);
      return store;
    };
    const closeAll = async () => {
      const stores = [...open];
      open.clear();
      await Promise.all(stores.map((s) => s.close()));
    };
    afterEach(closeAll);

    it('creates a subscription, then refreshes its settings and leaves its progress alone', async () => {
      const store = storage().open();
      const fresh = subscription('sub_a1');
      expect(await store.upsert(fresh, { expiresAt: T0 + 1 })).toEqual({ subscription: fresh, created: true });
      expect(await store.get('sub_a1')).toEqual(fresh);

      const inFlight = { eventId: '01EVT', attempts: 2, firstAttemptAt: T0 + 10, nextAttemptAt: T0 + 20 };
      const progress = { cursor: '01CUR', active: false, lastError: 'timeout', failedSince: T0 + 5, inFlight };
      expect(await store.update('sub_a1', progress)).toBe(true);

      const secrets = [
        { secret: 'whsec_BBBB', until: null },
        { secret: 'whsec_AAAA', until: T0 + 3_600_000 },
      ];
      const again = subscription('sub_a1', { createdAt: T0 + 99, cursor: '01OTHER', secrets: [{ secret: 'whsec_CCCC', until: null }] });
      const expected = { ...fresh, ...progress, secrets, expiresAt: T0 + 7, active: true };
      expect(await store.upsert(again, { secrets, expiresAt: T0 + 7, active: true })).toEqual({ subscription: expected, created: false });
      expect(await store.get('sub_a1')).toEqual(expected);
      expect(await store.list()).toEqual([expected]);
      expect(await store.countFor('alice')).toBe(1);
    });

    it('makes one record of concurrent upserts of one id, from two stores', async () => {
      const data = storage();
      const [a, b] = [data.open(), data.open()];
      const ids = Array.from({ length: 8 }, (_, i) => `sub_c${i}`);
      const outcomes = await Promise.all(
        ids.flatMap((id) => [
          a.upsert(subscription(id, { createdAt: T0 + 1 }), { expiresAt: T0 + 1 }),
          b.upsert(subscription(id, { createdAt: T0 + 2 }), { expiresAt: T0 + 2 }),
        ]),
      );
      for (let i = 0; i < ids.length; i++) {
        const pair = [outcomes[2 * i]!, outcomes[2 * i + 1]!];
        expect(pair.filter((o) => o.created)).toHaveLength(1);
        const stored = await a.get(ids[i]!);
        expect(stored).toEqual(pair.find((o) => !o.created)!.subscription);
        expect(stored!.createdAt).toBe(pair.find((o) => o.created)!.subscription.createdAt);
      }
      expect((await b.list()).map((s) => s.id)).toEqual(ids);
      expect(await b.countFor('alice')).toBe(ids.length);
    });

    it('never creates a subscription by updating one that does not exist', async () => {
      const store = storage().open();
      expect(await store.update('sub_missing', { cursor: '01X', active: true })).toBe(false);
      expect(await store.update('sub_missing', {})).toBe(false);
      expect(await store.get('sub_missing')).toBeUndefined();
      expect(await store.list()).toEqual([]);
      expect(await store.countFor('alice')).toBe(0);
    });

    it('writes an update without an owner whoever holds the lease', async () => {
      const store = storage().open();
      await store.upsert(subscription('sub_u1'), {});
      expect(await store.claim('sub_u1', 'owner-a', 5000)).toBe(true);
      expect(await store.update('sub_u1', { active: false })).toBe(true);
      expect(await store.update('sub_u1', {})).toBe(true);
      expect((await store.get('sub_u1'))!.active).toBe(false);
    });

    it('fences an update with an owner by the lease', async () => {
      const data = storage();
      const a = data.open();
      const b = second(data, a);
      await a.upsert(subscription('sub_f1'), {});
      expect(await a.update('sub_f1', { cursor: '01A' }, 'owner-a')).toBe(false);
      expect(await a.claim('sub_f1', 'owner-a', 150)).toBe(true);
      expect(await b.update('sub_f1', { cursor: '01B' }, 'owner-b')).toBe(false);
      expect(await a.update('sub_f1', { cursor: '01A' }, 'owner-a')).toBe(true);
      expect((await b.get('sub_f1'))!.cursor).toBe('01A');

      await sleep(250);
      expect(await a.update('sub_f1', { cursor: '01A2' }, 'owner-a')).toBe(false);
      expect(await b.claim('sub_f1', 'owner-b', 5000)).toBe(true);
      expect(await b.update('sub_f1', { cursor: '01B' }, 'owner-b')).toBe(true);
      await b.release('sub_f1', 'owner-b');
      expect(await b.update('sub_f1', { cursor: '01B2' }, 'owner-b')).toBe(false);
      expect((await a.get('sub_f1'))!.cursor).toBe('01B');
    });

    it('leases a subscription to one owner until the lease runs out or is released', async () => {
      const data = storage();
      const a = data.open();
      const b = second(data, a);
      await a.upsert(subscription('sub_l1'), {});
      expect(await a.claim('sub_l1', 'owner-a', 150)).toBe(true);
      expect(await b.claim('sub_l1', 'owner-b', 150)).toBe(false);
      await b.release('sub_l1', 'owner-b');
      expect(await b.claim('sub_l1', 'owner-b', 150)).toBe(false);

      await sleep(250);
      expect(await b.claim('sub_l1', 'owner-b', 5000)).toBe(true);
      expect(await a.claim('sub_l1', 'owner-a', 150)).toBe(false);
      await b.release('sub_l1', 'owner-b');
      expect(await a.claim('sub_l1', 'owner-a', 5000)).toBe(true);
      expect(await b.claim('sub_l1', 'owner-b', 5000)).toBe(false);
    });

    it('renews a lease for the owner holding it', async () => {
      const data = storage();
      const a = data.open();
      const b = second(data, a);
      await a.upsert(subscription('sub_r1'), {});
      expect(await a.claim('sub_r1', 'owner-a', 300)).toBe(true);
      await sleep(200);
      expect(await a.claim('sub_r1', 'owner-a', 300)).toBe(true);
      await sleep(200);
      expect(await b.claim('sub_r1', 'owner-b', 300)).toBe(false);
      expect(await a.update('sub_r1', { cursor: '01R' }, 'owner-a')).toBe(true);
    });

    it('leases no subscription that does not exist', async () => {
      const store = storage().open();
      expect(await store.claim('sub_missing', 'owner-a', 5000)).toBe(false);
      await store.upsert(subscription('sub_missing'), {});
      expect(await store.claim('sub_missing', 'owner-b', 5000)).toBe(true);
    });

    it('removes a subscription with its lease', async () => {
      const data = storage();
      const a = data.open();
      const b = second(data, a);
      await a.upsert(subscription('sub_d1'), {});
      await a.upsert(subscription('sub_d2'), {});
      expect(await a.claim('sub_d1', 'owner-a', 5000)).toBe(true);
      expect(await a.remove('sub_d1')).toBe(true);
      expect(await a.get('sub_d1')).toBeUndefined();
      expect((await a.list()).map((s) => s.id)).toEqual(['sub_d2']);
      expect(await a.remove('sub_d1')).toBe(false);
      expect(await a.update('sub_d1', { cursor: '01X' }, 'owner-a')).toBe(false);
      expect(await a.update('sub_d1', { cursor: '01X' })).toBe(false);
      expect(await a.get('sub_d1')).toBeUndefined();

      const { created } = await a.upsert(subscription('sub_d1'), {});
      expect(created).toBe(true);
      expect(await a.update('sub_d1', { cursor: '01X' }, 'owner-a')).toBe(false);
      expect(await b.claim('sub_d1', 'owner-b', 5000)).toBe(true);
    });

    it('lists every subscription in id order', async () => {
      const store = storage().open();
      for (const id of ['sub_c', 'sub_a', 'sub_e', 'sub_b', 'sub_d']) await store.upsert(subscription(id), {});
      await store.remove('sub_d');
      expect((await store.list()).map((s) => s.id)).toEqual(['sub_a', 'sub_b', 'sub_c', 'sub_e']);
    });

    it('counts subscriptions per principal', async () => {
      const store = storage().open();
      await store.upsert(subscription('sub_p1'), {});
      await store.upsert(subscription('sub_p2', { url: 'https://other.example.com/' }), {});
      await store.upsert(subscription('sub_p3', { principal: 'bob' }), {});
      await store.upsert(subscription('sub_p1'), { active: true });
      expect([await store.countFor('alice'), await store.countFor('bob'), await store.countFor('carol')]).toEqual([2, 1, 0]);
      await store.remove('sub_p1');
      await store.remove('sub_p3');
      await store.remove('sub_p3');
      expect([await store.countFor('alice'), await store.countFor('bob')]).toEqual([1, 0]);
    });

    it('round-trips null and object fields exactly', async () => {
      const store = storage().open();
      const bare = subscription('sub_n1');
      await store.upsert(bare, {});
      expect(await store.get('sub_n1')).toEqual(bare);

      const full = {
        secrets: [
          { secret: 'whsec_new', until: null },
          { secret: 'whsec_old', until: T0 + 86_400_000 },
        ],
        expiresAt: T0 + 1,
        active: false,
        verifiedAt: T0 + 2,
        cursor: '01J0000000000000000000000Z',
        lastDeliveryAt: T0 + 3,
        lastError: 'http_5xx',
        failedSince: T0 + 4,
        throttledUntil: T0 + 5,
        inFlight: { eventId: '01J0000000000000000000001Z', attempts: 3, firstAttemptAt: T0 + 6, nextAttemptAt: T0 + 7 },
        replayFrom: '01J0000000000000000000002Z',
      };
      expect(await store.update('sub_n1', full)).toBe(true);
      expect(await store.get('sub_n1')).toEqual({ ...bare, ...full });

      const cleared = {
        expiresAt: null,
        verifiedAt: null,
        lastDeliveryAt: null,
        lastError: null,
        failedSince: null,
        throttledUntil: null,
        inFlight: null,
        replayFrom: null,
      };
      expect(await store.update('sub_n1', cleared)).toBe(true);
      const stored = await store.get('sub_n1');
      expect(stored).toEqual({ ...bare, ...full, ...cleared });
      for (const field of Object.keys(cleared)) expect(stored).toHaveProperty(field, null);
      expect(await store.list()).toEqual([stored]);
    });

    it('hands out copies: changing a record passed or returned changes nothing stored', async () => {
      const store = storage().open();
      const fresh = subscription('sub_k1');
      const { subscription: returned } = await store.upsert(fresh, {});
      fresh.secrets.push({ secret: 'whsec_x', until: 1 });
      returned.secrets[0]!.secret = 'whsec_y';
      const got = await store.get('sub_k1');
      got!.cursor = 'changed';
      expect(await store.get('sub_k1')).toEqual(subscription('sub_k1'));
    });

    it.runIf(traits.durable)('keeps its subscriptions across a reopen', async () => {
      const data = storage();
      const first = data.open();
      const inFlight = { eventId: '01E', attempts: 1, firstAttemptAt: T0, nextAttemptAt: T0 + 1 };
      const kept = subscription('sub_s1', { expiresAt: T0 + 9, inFlight });
      await first.upsert(kept, {});
      await first.upsert(subscription('sub_s2', { principal: 'bob' }), {});
      await first.remove('sub_s2');
      await closeAll();

      const reopened = data.open();
      expect(await reopened.get('sub_s1')).toEqual(kept);
      expect(await reopened.list()).toEqual([kept]);
      expect([await reopened.countFor('alice'), await reopened.countFor('bob')]).toEqual([1, 0]);
      expect(await reopened.upsert(subscription('sub_s1'), {})).toEqual({ subscription: kept, created: false });
    });
  });
}
