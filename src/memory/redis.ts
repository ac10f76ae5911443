import type { Redis } from 'ioredis';
import { connectRedis, redisConnectionSchema, type RedisConnectionOptions } from '../log/redis/redis-connection.js';
import { defineScripts, type RunScript } from '../log/redis/lua-scripts.js';
import type {
  ContextChangeListener,
  CustomerContext,
  CustomerMemory,
  Fact,
  FactRecord,
  FactSource,
  UpsertOutcome,
} from './customer-memory.js';
import type { StoredFact } from './fact-store.js';
import { MemoryError } from './memory-error.js';
import type { CustomerMemoryOptions } from './stored-customer-memory.js';

export type RedisCustomerMemoryOptions = CustomerMemoryOptions & RedisConnectionOptions;

const KEY = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$/;

/** Later-happened first: greater `occurredAt`, then greater event id (upsert-fact.lua compares alike). */
function isNewer(a: StoredFact, b: StoredFact): boolean {
  if (a.occurredMs !== b.occurredMs) return a.occurredMs > b.occurredMs;
  return a.eventId > b.eventId;
}

/**
 * Customer memory on Redis, beside the event log under the same key prefix: per customer a
 * hash of current facts, per key a hash of every write by event id. Each upsert is one Lua
 * script (`upsert-fact.lua`), so relay instances sharing the server agree on one current
 * value per key.
 */
export class RedisCustomerMemory implements CustomerMemory {
  readonly kind = 'redis' as const;
  readonly #redis: Redis;
  readonly #upsert: RunScript;
  readonly #prefix: string;
  readonly #now: () => number;
  readonly #listeners = new Set<ContextChangeListener>();
  #closed = false;

  constructor({ now, ...options }: RedisCustomerMemoryOptions) {
    const parsed = redisConnectionSchema.safeParse(options);
    if (!parsed.success) throw new MemoryError('invalid_input', `invalid Redis memory options: ${parsed.error.issues[0]?.message}`);
    this.#redis = connectRedis(parsed.data.url, parsed.data.commandTimeoutMs);
    this.#upsert = defineScripts(this.#redis).upsertFact;
    this.#prefix = `${parsed.data.keyPrefix}memory:`;
    this.#now = now ?? Date.now;
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
    const keys = [this.#factsKey(customerId), this.#writesKey(customerId, key)];
    const outcome = (await this.#guard(() => this.#upsert(keys, [key, write.eventId, occurredMs, JSON.stringify(write)]))) as UpsertOutcome;
    if (outcome === 'applied') this.#announce(customerId, key, write);
    return outcome;
  }

  async get(customerId: string): Promise<CustomerContext> {
    this.#open();
    checkId('customerId', customerId);
    const stored = await this.#guard(() => this.#redis.hgetall(this.#factsKey(customerId)));
    const facts: Record<string, Fact> = {};
    for (const key of Object.keys(stored).sort()) facts[key] = toFact(JSON.parse(stored[key]!) as StoredFact);
    return { customerId, facts };
  }

  async history(customerId: string, key: string): Promise<FactRecord[]> {
    this.#open();
    checkId('customerId', customerId);
    const stored = await this.#guard(() => this.#redis.hvals(this.#writesKey(customerId, key)));
    return stored
      .map((text) => JSON.parse(text) as StoredFact)
      .sort((a, b) => (isNewer(a, b) ? 1 : isNewer(b, a) ? -1 : 0))
      .map((w) => ({ value: JSON.parse(w.value) as unknown, eventId: w.eventId, occurredAt: w.occurredAt, recordedAt: new Date(w.storedMs).toISOString() }));
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
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }

  #factsKey(customerId: string): string {
    return `${this.#prefix}facts:${customerId}`;
  }

  /** JSON-encoded, so no customer id and key pair can collide with another. */
  #writesKey(customerId: string, key: string): string {
    return `${this.#prefix}writes:${JSON.stringify([customerId, key])}`;
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

  async #guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw new MemoryError('store_unavailable', 'the customer memory store failed', { cause: error });
    }
  }
}

function toFact(stored: StoredFact): Fact {
  return { value: JSON.parse(stored.value) as unknown, eventId: stored.eventId, occurredAt: stored.occurredAt, updatedAt: new Date(stored.storedMs).toISOString() };
}

function checkId(name: string, value: string): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > 256) {
    throw new MemoryError('invalid_input', `${name} must be 1–256 characters`);
  }
}
