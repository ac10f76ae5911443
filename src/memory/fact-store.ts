/** A stored write of one key, as the primitives see it. */
export interface StoredFact {
  value: string;
  eventId: string;
  occurredAt: string;
  /** `occurredAt` as ms since epoch: what ordering compares. */
  occurredMs: number;
  /** ms since epoch. */
  storedMs: number;
}

/**
 * The few synchronous primitives a memory backend provides; the rules (ordering,
 * idempotence, notification) live once in `StoredCustomerMemory`. Every method except
 * `transaction` runs inside one.
 */
export interface FactStore {
  readonly kind: 'memory' | 'sqlite';
  /** Runs `fn` atomically against concurrent writers. */
  transaction<T>(fn: () => T): T;
  current(customerId: string, key: string): StoredFact | undefined;
  setCurrent(customerId: string, key: string, fact: StoredFact): void;
  /** True when this event already wrote this key. */
  hasWrite(customerId: string, key: string, eventId: string): boolean;
  addWrite(customerId: string, key: string, fact: StoredFact): void;
  /** Current facts of the customer, by key. */
  facts(customerId: string): Map<string, StoredFact>;
  /** Every write of the key, in any order. */
  writes(customerId: string, key: string): StoredFact[];
  close(): void;
}
