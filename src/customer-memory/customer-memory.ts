/** Which event wrote a fact, and when that event happened upstream. */
export interface FactSource {
  /** The log id of the event (a ULID); ties on `occurredAt` are broken by it. */
  eventId: string;
  /** When the event happened upstream (ISO 8601 with offset). */
  occurredAt: string;
}

/** The current value of one key of a customer's context. */
export interface Fact extends FactSource {
  /** JSON value, as written. */
  value: unknown;
  /** When this value was stored (ISO 8601, the memory's clock). */
  updatedAt: string;
}

/** Everything the relay knows about one customer. */
export interface CustomerContext {
  customerId: string;
  /** Current value per key; `{}` for a customer the memory has never heard of. */
  facts: Record<string, Fact>;
}

/** One accepted write of a key, whether or not it became the current value. */
export interface FactRecord extends FactSource {
  value: unknown;
  /** When the write was received (ISO 8601). */
  recordedAt: string;
}

/**
 * What an upsert did. `applied`: it is the key's current value now. `stale`: an event that
 * happened later already wrote the key; kept in history only. `duplicate`: this event already
 * wrote this key; nothing changed.
 */
export type UpsertOutcome = 'applied' | 'stale' | 'duplicate';

/** Sent after a write became a key's current value. */
export interface ContextChange {
  customerId: string;
  key: string;
  fact: Fact;
}

export type ContextChangeListener = (change: ContextChange) => void;

/**
 * What the relay knows about each customer before they call: per customer, a set of keys,
 * each with its current value and the event that wrote it. This documentation is the
 * contract every backend passes (`test/contract/customer-memory-contract.ts`).
 *
 * Ordering. A key's current value is the one written by the event that happened last:
 * greatest `occurredAt` (as an instant), ties broken by the greater `eventId`. An older event
 * arriving late (a `shipped` after `delivered`) never overwrites a newer one's value; it is
 * recorded in history and reported `stale`.
 *
 * Idempotence. A key remembers every event that wrote it: writing it again from the same
 * event is `duplicate` and changes nothing, whatever the value — so a replayed reaction is a
 * no-op.
 *
 * Atomicity. Each upsert is atomic: concurrent writers (processes sharing a SQLite file
 * included) agree on one current value per key.
 *
 * Notification. Listeners run synchronously after each `applied` upsert made through this
 * instance (never for `stale` or `duplicate`); writes made by other processes are not
 * announced. A throwing listener does not fail the upsert or stop other listeners.
 *
 * Values are JSON: they are stored as JSON text and read back as fresh copies.
 */
export interface CustomerMemory {
  readonly kind: 'memory' | 'sqlite' | 'redis';

  /**
   * Writes `value` under `key` for `customerId` on behalf of the event `source` names.
   * `MemoryError` `invalid_input` for an empty id, a bad key, a bad `occurredAt` or a value
   * that is not JSON.
   */
  upsert(customerId: string, key: string, value: unknown, source: FactSource): Promise<UpsertOutcome>;

  /** The customer's current facts; `{ customerId, facts: {} }` when there are none. */
  get(customerId: string): Promise<CustomerContext>;

  /** Every write of the key, in event order (`occurredAt`, then `eventId`), oldest first. */
  history(customerId: string, key: string): Promise<FactRecord[]>;

  /** Calls `listener` after every `applied` upsert; returns the unsubscribe function. */
  onChange(listener: ContextChangeListener): () => void;

  close(): Promise<void>;
}

export interface CustomerMemoryOptions {
  /** The clock (ms since epoch) for `updatedAt`/`recordedAt`. */
  now?: () => number;
}

export type MemoryErrorCode = 'invalid_input' | 'store_unavailable';

/** A local error of the customer memory. */
export class MemoryError extends Error {
  override readonly name = 'MemoryError';
  constructor(
    readonly code: MemoryErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
