import type { CustomerContext, FactRecord, FactSource, UpsertOutcome } from './customer-memory.js';
import { CustomerMemoryBase, type CustomerMemoryOptions } from './customer-memory-base.js';
import { checkId, isNewer, newWrite, toFacts, toHistory } from './fact-rules.js';
import type { FactStore } from './fact-store.js';
import { MemoryError } from './memory-error.js';

export type { CustomerMemoryOptions } from './customer-memory-base.js';

/** The {@link CustomerMemory} contract, once, above a backend's {@link FactStore}. */
export class StoredCustomerMemory extends CustomerMemoryBase {
  readonly kind: 'memory' | 'sqlite';
  readonly #store: FactStore;

  constructor(store: FactStore, options: CustomerMemoryOptions = {}) {
    super(options);
    this.#store = store;
    this.kind = store.kind;
  }

  async upsert(customerId: string, key: string, value: unknown, source: FactSource): Promise<UpsertOutcome> {
    this.assertOpen();
    const write = newWrite(customerId, key, value, source, this.now);
    const outcome = this.#guard(() =>
      this.#store.transaction((): UpsertOutcome => {
        if (this.#store.hasWrite(customerId, key, write.eventId)) return 'duplicate';
        this.#store.addWrite(customerId, key, write);
        const current = this.#store.current(customerId, key);
        if (current !== undefined && !isNewer(write, current)) return 'stale';
        this.#store.setCurrent(customerId, key, write);
        return 'applied';
      }),
    );
    if (outcome === 'applied') this.announce(customerId, key, write);
    return outcome;
  }

  async get(customerId: string): Promise<CustomerContext> {
    this.assertOpen();
    checkId('customerId', customerId);
    return { customerId, facts: toFacts(this.#guard(() => this.#store.facts(customerId))) };
  }

  async history(customerId: string, key: string): Promise<FactRecord[]> {
    this.assertOpen();
    checkId('customerId', customerId);
    return toHistory(this.#guard(() => this.#store.writes(customerId, key)));
  }

  protected closeStore(): void {
    this.#store.close();
  }

  #guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      if (error instanceof MemoryError) throw error;
      throw new MemoryError('store_unavailable', 'the customer memory store failed', { cause: error });
    }
  }
}
