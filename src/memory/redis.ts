import type { Redis } from 'ioredis';
import { connectRedis, redisConnectionSchema, type RedisConnectionOptions } from '../log/redis/connection.js';
import { defineScripts, type RunScript } from '../log/redis/scripts.js';
import type { CustomerContext, FactRecord, FactSource, UpsertOutcome } from './customer-memory.js';
import { CustomerMemoryBase, type CustomerMemoryOptions } from './customer-memory-base.js';
import { checkId, newWrite, toFacts, toHistory } from './fact-rules.js';
import type { StoredFact } from './fact-store.js';
import { MemoryError } from './memory-error.js';

export type RedisCustomerMemoryOptions = CustomerMemoryOptions & RedisConnectionOptions;

/**
 * Customer memory on Redis, beside the event log under the same key prefix: per customer a
 * hash of current facts, per key a hash of every write by event id. Each upsert is one Lua
 * script (`upsert-fact.lua`), so relay instances sharing the server agree on one current
 * value per key.
 */
export class RedisCustomerMemory extends CustomerMemoryBase {
  readonly kind = 'redis' as const;
  readonly #redis: Redis;
  readonly #upsert: RunScript;
  readonly #prefix: string;

  constructor({ now, ...options }: RedisCustomerMemoryOptions) {
    super({ now });
    const parsed = redisConnectionSchema.safeParse(options);
    if (!parsed.success) throw new MemoryError('invalid_input', `invalid Redis memory options: ${parsed.error.issues[0]?.message}`);
    this.#redis = connectRedis(parsed.data.url, parsed.data.commandTimeoutMs);
    this.#upsert = defineScripts(this.#redis).upsertFact;
    this.#prefix = `${parsed.data.keyPrefix}memory:`;
  }

  async upsert(customerId: string, key: string, value: unknown, source: FactSource): Promise<UpsertOutcome> {
    this.assertOpen();
    const write = newWrite(customerId, key, value, source, this.now);
    const keys = [this.#factsKey(customerId), this.#writesKey(customerId, key)];
    const outcome = (await this.#guard(() => this.#upsert(keys, [key, write.eventId, write.occurredMs, JSON.stringify(write)]))) as UpsertOutcome;
    if (outcome === 'applied') this.announce(customerId, key, write);
    return outcome;
  }

  async get(customerId: string): Promise<CustomerContext> {
    this.assertOpen();
    checkId('customerId', customerId);
    const stored = await this.#guard(() => this.#redis.hgetall(this.#factsKey(customerId)));
    return { customerId, facts: toFacts(Object.entries(stored).map(([key, text]) => [key, JSON.parse(text) as StoredFact])) };
  }

  async history(customerId: string, key: string): Promise<FactRecord[]> {
    this.assertOpen();
    checkId('customerId', customerId);
    const stored = await this.#guard(() => this.#redis.hvals(this.#writesKey(customerId, key)));
    return toHistory(stored.map((text) => JSON.parse(text) as StoredFact));
  }

  protected async closeStore(): Promise<void> {
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }

  #factsKey(customerId: string): string {
    return `${this.#prefix}facts:${customerId}`;
  }

  /** JSON-encoded, so no customer id and key pair can collide with another. */
  #writesKey(customerId: string, key: string): string {
    return `${this.#prefix}writes:${JSON.stringify([customerId, key])}`;
  }

  async #guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw new MemoryError('store_unavailable', 'the customer memory store failed', { cause: error });
    }
  }
}
