import { afterEach, describe, expect, it } from 'vitest';
import { type ContextChange, type CustomerMemory, type CustomerMemoryOptions, MemoryError } from '../../src/customer-memory/customer-memory.js';

/** Opens a fresh, empty customer memory of one backend; the suite closes it. */
export type CustomerMemoryFactory = (options: CustomerMemoryOptions) => CustomerMemory | Promise<CustomerMemory>;

const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 12, minute)).toISOString();

/** The CustomerMemory contract (its TSDoc), once, for every backend. */
export function describeCustomerMemoryContract(backend: string, factory: CustomerMemoryFactory): void {
  describe(`CustomerMemory contract (${backend})`, () => {
    const open: CustomerMemory[] = [];
    const create = async (options: CustomerMemoryOptions = {}) => {
      const memory = await factory({ now: () => Date.UTC(2026, 0, 2), ...options });
      open.push(memory);
      return memory;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((m) => m.close()));
    });

    it('returns an empty context for a customer it has never heard of', async () => {
      const memory = await create();
      expect(await memory.get('cus_unknown')).toEqual({ customerId: 'cus_unknown', facts: {} });
      expect(await memory.history('cus_unknown', 'anything')).toEqual([]);
    });

    it('stores a value with the event that wrote it', async () => {
      const memory = await create();
      const outcome = await memory.upsert('cus_1', 'payment_status', { failed: true, code: 'card_declined' }, { eventId: 'E1', occurredAt: at(1) });
      expect(outcome).toBe('applied');
      expect(await memory.get('cus_1')).toEqual({
        customerId: 'cus_1',
        facts: {
          payment_status: {
            value: { failed: true, code: 'card_declined' },
            eventId: 'E1',
            occurredAt: at(1),
            updatedAt: new Date(Date.UTC(2026, 0, 2)).toISOString(),
          },
        },
      });
    });

    it('keeps customers and keys apart', async () => {
      const memory = await create();
      await memory.upsert('cus_1', 'a', 1, { eventId: 'E1', occurredAt: at(1) });
      await memory.upsert('cus_1', 'b', 2, { eventId: 'E1', occurredAt: at(1) });
      await memory.upsert('cus_2', 'a', 3, { eventId: 'E2', occurredAt: at(1) });
      const one = await memory.get('cus_1');
      expect(Object.fromEntries(Object.entries(one.facts).map(([k, f]) => [k, f.value]))).toEqual({ a: 1, b: 2 });
      expect((await memory.get('cus_2')).facts.a?.value).toBe(3);
    });

    it('lets a newer event overwrite an older one', async () => {
      const memory = await create();
      await memory.upsert('cus_1', 'order_1_status', { status: 'shipped' }, { eventId: 'E1', occurredAt: at(1) });
      expect(await memory.upsert('cus_1', 'order_1_status', { status: 'delivered' }, { eventId: 'E2', occurredAt: at(5) })).toBe('applied');
      expect((await memory.get('cus_1')).facts.order_1_status?.value).toEqual({ status: 'delivered' });
    });

    it('never lets a late older event (shipped after delivered) overwrite a newer one', async () => {
      const memory = await create();
      await memory.upsert('cus_1', 'order_1_status', { status: 'delivered' }, { eventId: 'E2', occurredAt: at(5) });
      expect(await memory.upsert('cus_1', 'order_1_status', { status: 'shipped' }, { eventId: 'E3', occurredAt: at(1) })).toBe('stale');
      const fact = (await memory.get('cus_1')).facts.order_1_status!;
      expect(fact.value).toEqual({ status: 'delivered' });
      expect(fact.eventId).toBe('E2');
      expect((await memory.history('cus_1', 'order_1_status')).map((r) => r.value)).toEqual([{ status: 'shipped' }, { status: 'delivered' }]);
    });

    it('compares occurrence as instants, whatever the offset', async () => {
      const memory = await create();
      await memory.upsert('cus_1', 'k', 'later', { eventId: 'E1', occurredAt: '2026-01-01T08:00:00-05:00' });
      expect(await memory.upsert('cus_1', 'k', 'earlier', { eventId: 'E2', occurredAt: '2026-01-01T12:30:00Z' })).toBe('stale');
      expect((await memory.get('cus_1')).facts.k?.value).toBe('later');
    });

    it('breaks a tie on occurrence by the greater event id', async () => {
      const memory = await create();
      await memory.upsert('cus_1', 'k', 'b', { eventId: 'E2', occurredAt: at(1) });
      expect(await memory.upsert('cus_1', 'k', 'a', { eventId: 'E1', occurredAt: at(1) })).toBe('stale');
      expect(await memory.upsert('cus_1', 'k', 'c', { eventId: 'E3', occurredAt: at(1) })).toBe('applied');
      expect((await memory.get('cus_1')).facts.k?.value).toBe('c');
    });

    it('treats a replayed event as a no-op, whatever value it carries', async () => {
      const memory = await create();
      await memory.upsert('cus_1', 'k', 'first', { eventId: 'E1', occurredAt: at(1) });
      expect(await memory.upsert('cus_1', 'k', 'first', { eventId: 'E1', occurredAt: at(1) })).toBe('duplicate');
      expect(await memory.upsert('cus_1', 'k', 'changed', { eventId: 'E1', occurredAt: at(9) })).toBe('duplicate');
      expect((await memory.get('cus_1')).facts.k?.value).toBe('first');
      expect(await memory.history('cus_1', 'k')).toHaveLength(1);
    });

    it('lists history in event order, oldest first', async () => {
      const memory = await create();
      await memory.upsert('cus_1', 'k', 3, { eventId: 'E3', occurredAt: at(3) });
      await memory.upsert('cus_1', 'k', 1, { eventId: 'E1', occurredAt: at(1) });
      await memory.upsert('cus_1', 'k', 2, { eventId: 'E2', occurredAt: at(2) });
      const history = await memory.history('cus_1', 'k');
      expect(history.map((r) => [r.value, r.eventId, r.occurredAt])).toEqual([
        [1, 'E1', at(1)],
        [2, 'E2', at(2)],
        [3, 'E3', at(3)],
      ]);
    });

    it('notifies listeners of applied writes only', async () => {
      const memory = await create();
      const changes: ContextChange[] = [];
      const stop = memory.onChange((change) => changes.push(change));
      await memory.upsert('cus_1', 'k', 'new', { eventId: 'E2', occurredAt: at(2) });
      await memory.upsert('cus_1', 'k', 'old', { eventId: 'E1', occurredAt: at(1) });
      await memory.upsert('cus_1', 'k', 'new', { eventId: 'E2', occurredAt: at(2) });
      expect(changes.map((c) => [c.customerId, c.key, c.fact.value, c.fact.eventId])).toEqual([['cus_1', 'k', 'new', 'E2']]);
      stop();
      await memory.upsert('cus_1', 'k', 'newest', { eventId: 'E3', occurredAt: at(3) });
      expect(changes).toHaveLength(1);
    });

    it('commits a write even when a listener throws, and still calls the others', async () => {
      const memory = await create();
      let called = 0;
      memory.onChange(() => {
        throw new Error('listener bug');
      });
      memory.onChange(() => called++);
      expect(await memory.upsert('cus_1', 'k', 1, { eventId: 'E1', occurredAt: at(1) })).toBe('applied');
      expect(called).toBe(1);
    });

    it('hands out copies: mutating a read value changes nothing stored', async () => {
      const memory = await create();
      const value = { nested: { n: 1 } };
      await memory.upsert('cus_1', 'k', value, { eventId: 'E1', occurredAt: at(1) });
      value.nested.n = 2;
      const read = (await memory.get('cus_1')).facts.k!.value as { nested: { n: number } };
      expect(read.nested.n).toBe(1);
      read.nested.n = 3;
      expect(((await memory.get('cus_1')).facts.k!.value as { nested: { n: number } }).nested.n).toBe(1);
    });

    it('rejects bad input with invalid_input before writing anything', async () => {
      const memory = await create();
      const source = { eventId: 'E1', occurredAt: at(1) };
      const rejected = async (p: Promise<unknown>) => {
        const error = await p.then(() => null, (e: unknown) => e);
        expect(error).toBeInstanceOf(MemoryError);
        expect((error as MemoryError).code).toBe('invalid_input');
      };
      await rejected(memory.upsert('', 'k', 1, source));
      await rejected(memory.upsert('cus_1', 'bad key', 1, source));
      await rejected(memory.upsert('cus_1', 'k', 1, { eventId: 'E1', occurredAt: 'yesterday' }));
      await rejected(memory.upsert('cus_1', 'k', undefined, source));
      await rejected(memory.upsert('cus_1', 'k', 1n, source));
      expect(await memory.get('cus_1')).toEqual({ customerId: 'cus_1', facts: {} });
    });

    it('fails with store_unavailable after close', async () => {
      const memory = await factory({});
      await memory.close();
      await memory.close();
      const error = await memory.get('cus_1').then(() => null, (e: unknown) => e);
      expect((error as MemoryError).code).toBe('store_unavailable');
    });
  });
}
