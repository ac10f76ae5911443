import { type Fact, type FactRecord, type FactSource, MemoryError, type UpsertOutcome } from './customer-memory.js';

/**
 * The input checks and the event order every customer-memory backend applies, written once,
 * and the upsert rules for the backends whose primitives run in one synchronous transaction
 * (memory, SQLite). The Redis backend runs the same rules, in the same order, as
 * `redis/upsert-fact.lua`.
 */

/** A stored write of one key, as the backends keep it. */
export interface StoredFact {
  value: string;
  eventId: string;
  occurredAt: string;
  /** `occurredAt` as ms since epoch: what ordering compares. */
  occurredMs: number;
  /** ms since epoch. */
  storedMs: number;
}

/** The synchronous primitives {@link applyWrite} runs on, inside the backend's transaction. */
export interface FactRows {
  current(customerId: string, key: string): StoredFact | undefined;
  setCurrent(customerId: string, key: string, fact: StoredFact): void;
  /** True when this event already wrote this key. */
  hasWrite(customerId: string, key: string, eventId: string): boolean;
  addWrite(customerId: string, key: string, fact: StoredFact): void;
}

/**
 * One upsert by the contract's rules; the caller runs it in one transaction. A repeat of an
 * event that already wrote the key changes nothing; otherwise the write joins the key's
 * history and becomes current unless an event that happened later already wrote the key.
 */
export function applyWrite(rows: FactRows, customerId: string, key: string, write: StoredFact): UpsertOutcome {
  if (rows.hasWrite(customerId, key, write.eventId)) return 'duplicate';
  rows.addWrite(customerId, key, write);
  const current = rows.current(customerId, key);
  if (current !== undefined && !isNewer(write, current)) return 'stale';
  rows.setCurrent(customerId, key, write);
  return 'applied';
}

const KEY = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$/;

export function checkId(name: string, value: string): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > 256) {
    throw new MemoryError('invalid_input', `${name} must be 1–256 characters`);
  }
}

/**
 * Checks an upsert's arguments and encodes them as the write to store, stamped by `now`
 * only once they passed. `MemoryError` `invalid_input` names the first bad argument.
 */
export function newWrite(customerId: string, key: string, value: unknown, source: FactSource, now: () => number): StoredFact {
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
  return { value: json, eventId: source.eventId, occurredAt: source.occurredAt, occurredMs, storedMs: now() };
}

/** Later-happened first: greater `occurredAt`, then greater event id. */
export function isNewer(a: StoredFact, b: StoredFact): boolean {
  if (a.occurredMs !== b.occurredMs) return a.occurredMs > b.occurredMs;
  return a.eventId > b.eventId;
}

/** A key's writes in event order, oldest first, as `history` returns them. */
export function toHistory(writes: StoredFact[]): FactRecord[] {
  return writes
    .sort((a, b) => (isNewer(a, b) ? 1 : isNewer(b, a) ? -1 : 0))
    .map((w) => ({
      value: JSON.parse(w.value) as unknown,
      eventId: w.eventId,
      occurredAt: w.occurredAt,
      recordedAt: new Date(w.storedMs).toISOString(),
    }));
}

/** A customer's current facts, keys in sorted order, as `get` returns them. */
export function toFacts(stored: Iterable<[string, StoredFact]>): Record<string, Fact> {
  const facts: Record<string, Fact> = {};
  for (const [key, fact] of [...stored].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) facts[key] = toFact(fact);
  return facts;
}

export function toFact(stored: StoredFact): Fact {
  return {
    value: JSON.parse(stored.value) as unknown,
    eventId: stored.eventId,
    occurredAt: stored.occurredAt,
    updatedAt: new Date(stored.storedMs).toISOString(),
  };
}
