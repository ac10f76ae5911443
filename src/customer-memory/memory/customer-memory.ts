import type { CustomerMemoryOptions, UpsertOutcome } from '../customer-memory.js';
import { applyWrite, type FactRows, type StoredFact } from '../fact-rules.js';
import { type FactStore, StoredCustomerMemory } from '../stored-customer-memory.js';

/** `customerId` and `key` joined by a character neither may make ambiguous. */
const slot = (customerId: string, key: string) => `${customerId}\u0000${key}`;

/** Every primitive is synchronous, so each upsert is trivially atomic. */
class InMemoryFactStore implements FactStore, FactRows {
  readonly kind = 'memory' as const;
  readonly #current = new Map<string, Map<string, StoredFact>>();
  readonly #writes = new Map<string, Map<string, StoredFact>>();

  upsert(customerId: string, key: string, write: StoredFact): UpsertOutcome {
    return applyWrite(this, customerId, key, write);
  }

  current(customerId: string, key: string): StoredFact | undefined {
    return this.#current.get(customerId)?.get(key);
  }

  setCurrent(customerId: string, key: string, fact: StoredFact): void {
    let facts = this.#current.get(customerId);
    if (!facts) this.#current.set(customerId, (facts = new Map()));
    facts.set(key, fact);
  }

  hasWrite(customerId: string, key: string, eventId: string): boolean {
    return this.#writes.get(slot(customerId, key))?.has(eventId) ?? false;
  }

  addWrite(customerId: string, key: string, fact: StoredFact): void {
    let writes = this.#writes.get(slot(customerId, key));
    if (!writes) this.#writes.set(slot(customerId, key), (writes = new Map()));
    writes.set(fact.eventId, fact);
  }

  facts(customerId: string): Map<string, StoredFact> {
    return new Map(this.#current.get(customerId));
  }

  writes(customerId: string, key: string): StoredFact[] {
    return [...(this.#writes.get(slot(customerId, key))?.values() ?? [])];
  }

  close(): void {}
}

/** Customer memory in process memory: the whole contract without durability. */
export class MemoryCustomerMemory extends StoredCustomerMemory {
  constructor(options: CustomerMemoryOptions = {}) {
    super(new InMemoryFactStore(), options);
  }
}
