import type {
  ContextChangeListener,
  CustomerContext,
  CustomerMemory,
  Fact,
  FactRecord,
  FactSource,
  UpsertOutcome,
} from './customer-memory.js';
import type { FactStore, StoredFact } from './fact-store.js';
import { MemoryError } from './memory-error.js';

export interface CustomerMemoryOptions {
  /** The clock (ms since epoch) for `updatedAt`/`recordedAt`. */
  now?: () => number;
}

const KEY = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$/;

/** Later-happened first: greater `occurredAt`, then greater event id. */
function isNewer(a: StoredFact, b: StoredFact): boolean {
  if (a.occurredMs !== b.occurredMs) return a.occurredMs > b.occurredMs;
  return a.eventId > b.eventId;
}

function toFact(stored: StoredFact): Fact {
  return {
    value: JSON.parse(stored.value) as unknown,
    eventId: stored.eventId,
    occurredAt: stored.occurredAt,
    updatedAt: new Date(stored.storedMs).toISOString(),
  };
}

/** The {@link CustomerMemory} contract, once, above a backend's {@link FactStore}. */
export class StoredCustomerMemory implements CustomerMemory {
  readonly kind: 'memory' | 'sqlite';
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
    this.#open();
    checkId('customerId', customerId);
    if (!KEY.test(key)) throw new MemoryError('invalid_input', 'key must be 1–200 letters, digits, "_", ".", ":" or "-"');
    checkId('eventId', source.eventId);
    const occurredMs = Date.parse(source.occurredAt);
    if (Number.isNaN(occurredMs)) throw new MemoryError('invalid_input', 'occurredAt is not an ISO 8601 instant');
    let json: string | undefined;
    try {
      json = JSON.stringify(value);
    } catch (error) {
      throw new MemoryError('invalid_input', 'value is not JSON', { cause: error });
    }
    if (json === undefined) throw new MemoryError('invalid_input', 'value is not JSON');
    const write: StoredFact = { value: json, eventId: source.eventId, occurredAt: source.occurredAt, occurredMs, storedMs: this.#now() };
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
    if (outcome === 'applied') this.#announce(customerId, key, write);
    return outcome;
  }

  async get(customerId: string): Promise<CustomerContext> {
    this.#open();
    checkId('customerId', customerId);
    const stored = this.#guard(() => this.#store.facts(customerId));
    const facts: Record<string, Fact> = {};
    for (const key of [...stored.keys()].sort()) facts[key] = toFact(stored.get(key)!);
    return { customerId, facts };
  }

  async history(customerId: string, key: string): Promise<FactRecord[]> {
    this.#open();
    checkId('customerId', customerId);
    const writes = this.#guard(() => this.#store.writes(customerId, key));
    return writes
      .sort((a, b) => (isNewer(a, b) ? 1 : isNewer(b, a) ? -1 : 0))
      .map((w) => ({
        value: JSON.parse(w.value) as unknown,
        eventId: w.eventId,
        occurredAt: w.occurredAt,
        recordedAt: new Date(w.storedMs).toISOString(),
      }));
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
    this.#store.close();
  }

  #announce(customerId: string, key: string, write: StoredFact): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener({ customerId, key, fact: toFact(write) });
      } catch {
        // A listener's failure is its own; the write is committed.
      }
    }
  }

  #open(): void {
    if (this.#closed) throw new MemoryError('store_unavailable', 'the customer memory is closed');
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

function checkId(name: string, value: string): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > 256) {
    throw new MemoryError('invalid_input', `${name} must be 1–256 characters`);
  }
}
