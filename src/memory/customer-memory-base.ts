import type { ContextChangeListener, CustomerContext, CustomerMemory, FactRecord, FactSource, UpsertOutcome } from './customer-memory.js';
import { toFact } from './fact-rules.js';
import type { StoredFact } from './fact-store.js';
import { MemoryError } from './memory-error.js';

export interface CustomerMemoryOptions {
  /** The clock (ms since epoch) for `updatedAt`/`recordedAt`. */
  now?: () => number;
}

/** What every customer memory does around its store: the clock, change listeners and the closed state. */
export abstract class CustomerMemoryBase implements CustomerMemory {
  abstract readonly kind: CustomerMemory['kind'];
  protected readonly now: () => number;
  readonly #listeners = new Set<ContextChangeListener>();
  #closed = false;

  constructor(options: CustomerMemoryOptions) {
    this.now = options.now ?? Date.now;
  }

  abstract upsert(customerId: string, key: string, value: unknown, source: FactSource): Promise<UpsertOutcome>;
  abstract get(customerId: string): Promise<CustomerContext>;
  abstract history(customerId: string, key: string): Promise<FactRecord[]>;
  /** Releases the store; called once, by the first `close`. */
  protected abstract closeStore(): void | Promise<void>;

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
    await this.closeStore();
  }

  /** Tells every listener that `write` became the key's current value. */
  protected announce(customerId: string, key: string, write: StoredFact): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener({ customerId, key, fact: toFact(write) });
      } catch {
        // A listener's failure is its own; the write is committed.
      }
    }
  }

  protected assertOpen(): void {
    if (this.#closed) throw new MemoryError('store_unavailable', 'the customer memory is closed');
  }
}
