import {
  type ContextChangeListener,
  type CustomerContext,
  type CustomerMemory,
  type CustomerMemoryOptions,
  type FactRecord,
  type FactSource,
  MemoryError,
  type UpsertOutcome,
} from './customer-memory.js';
import { checkId, newWrite, type StoredFact, toFact, toFacts, toHistory } from './fact-rules.js';

/**
 * What a backend provides: an atomic upsert by the rules (`applyWrite` of `fact-rules.ts` in a
 * transaction, or `upsert-fact.lua` on Redis) and reads of what it stored. A backend's
 * failures are reported as `store_unavailable` by {@link StoredCustomerMemory}.
 */
export interface FactStore {
  readonly kind: CustomerMemory['kind'];
  /** Records `write` atomically against concurrent writers, processes sharing the store included. */
  upsert(customerId: string, key: string, write: StoredFact): UpsertOutcome | Promise<UpsertOutcome>;
  /** Current facts of the customer, by key. */
  facts(customerId: string): Iterable<[string, StoredFact]> | Promise<Iterable<[string, StoredFact]>>;
  /** Every write of the key, in any order. */
  writes(customerId: string, key: string): StoredFact[] | Promise<StoredFact[]>;
  /** Releases the store; called once, by the first `close`. */
  close(): void | Promise<void>;
}

/**
 * The {@link CustomerMemory} contract, once, above a backend's {@link FactStore}: input
 * checks, the clock, change listeners and the closed state.
 */
export class StoredCustomerMemory implements CustomerMemory {
  readonly kind: CustomerMemory['kind'];
  readonly #store: FactStore;
  readonly #now: () => number;
  readonly #listeners = new Set<ContextChangeListener>();
  #closed = false;

  constructor(store: FactStore, options: CustomerMemoryOptions = {}) {
    this.#store = store;
    this.kind = store.kind;
    this.#now = options.now ?? Date.now;
  }

  async upsert(customerId: string, key: string, value: unknown, source: FactSource): Promise<UpsertOutcome> {
    this.#assertOpen();
    const write = newWrite(customerId, key, value, source, this.#now);
    const outcome = await this.#guard(() => this.#store.upsert(customerId, key, write));
    if (outcome === 'applied') this.#announce(customerId, key, write);
    return outcome;
  }

  async get(customerId: string): Promise<CustomerContext> {
    this.#assertOpen();
    checkId('customerId', customerId);
    return { customerId, facts: toFacts(await this.#guard(() => this.#store.facts(customerId))) };
  }

  async history(customerId: string, key: string): Promise<FactRecord[]> {
    this.#assertOpen();
    checkId('customerId', customerId);
    return toHistory(await this.#guard(() => this.#store.writes(customerId, key)));
  }

  onChange(listener: ContextChangeListener): () => void {
    // A wrapper per subscription, so one listener subscribed twice is called twice.
    const entry: ContextChangeListener = (change) => listener(change);
    this.#listeners.add(entry);
    return () => this.#listeners.delete(entry);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.clear();
    await this.#store.close();
  }

  /** Tells every listener that `write` became the key's current value. */
  #announce(customerId: string, key: string, write: StoredFact): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener({ customerId, key, fact: toFact(write) });
      } catch {
        // A listener's failure is its own; the write is committed.
      }
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new MemoryError('store_unavailable', 'the customer memory is closed');
  }

  async #guard<T>(fn: () => T | Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      // Input refusals are the caller's; a record that does not decode is corrupt data (an
      // internal fault, answered 500), not a store that is unavailable.
      if (error instanceof MemoryError || error instanceof SyntaxError) throw error;
      throw new MemoryError('store_unavailable', 'the customer memory store failed', { cause: error });
    }
  }
}
