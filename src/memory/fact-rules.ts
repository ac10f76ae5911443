import type { Fact, FactRecord, FactSource } from './customer-memory.js';
import type { StoredFact } from './fact-store.js';
import { MemoryError } from './memory-error.js';

/**
 * The input checks and the event order every customer-memory backend applies, written once
 * (the Redis backend's `upsert-fact.lua` compares writes by the same order).
 */

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
