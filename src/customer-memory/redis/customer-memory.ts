import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { connectRedis, redisConnectionSchema, type RedisConnectionOptions } from '../../log/redis/connection.js';
import { type CustomerMemoryOptions, MemoryError, type UpsertOutcome } from '../customer-memory.js';
import type { StoredFact } from '../fact-rules.js';
import { type FactStore, StoredCustomerMemory } from '../stored-customer-memory.js';

export type RedisCustomerMemoryOptions = CustomerMemoryOptions &
  (
    | RedisConnectionOptions
    | {
        /** A connection shared with the event log (`openBackend`); its opener closes it. */
        connection: Redis;
        keyPrefix?: string;
      }
  );

/**
 * Customer memory on Redis, beside the event log under the same key prefix: per customer a
 * hash of current facts, per key a hash of every write by event id. Each upsert is one Lua
 * script (`upsert-fact.lua`, beside this file), so relay instances sharing the server agree
 * on one current value per key.
 */
export class RedisCustomerMemory extends StoredCustomerMemory {
  constructor({ now, ...options }: RedisCustomerMemoryOptions) {
    super(openRedisFacts(options), { now });
  }
}

function openRedisFacts(options: RedisConnectionOptions | { connection: Redis; keyPrefix?: string }): RedisFactStore {
  if ('connection' in options) {
    const prefix = redisConnectionSchema.shape.keyPrefix.safeParse(options.keyPrefix);
    if (!prefix.success) throw new MemoryError('invalid_input', `invalid Redis memory options: ${prefix.error.issues[0]?.message}`);
    return new RedisFactStore(options.connection, false, prefix.data);
  }
  const parsed = redisConnectionSchema.safeParse(options);
  if (!parsed.success) throw new MemoryError('invalid_input', `invalid Redis memory options: ${parsed.error.issues[0]?.message}`);
  return new RedisFactStore(connectRedis(parsed.data.url, parsed.data.commandTimeoutMs), true, parsed.data.keyPrefix);
}

class RedisFactStore implements FactStore {
  readonly kind = 'redis' as const;
  readonly #redis: Redis;
  /** Whether `close` closes the connection: not when it is shared. */
  readonly #ownsConnection: boolean;
  readonly #prefix: string;

  constructor(redis: Redis, ownsConnection: boolean, keyPrefix: string) {
    this.#redis = redis;
    this.#ownsConnection = ownsConnection;
    this.#prefix = `${keyPrefix}memory:`;
    // EVALSHA, reloaded by ioredis after a server restart.
    redis.defineCommand(UPSERT_COMMAND, { numberOfKeys: 2, lua: upsertFactLua() });
  }

  async upsert(customerId: string, key: string, write: StoredFact): Promise<UpsertOutcome> {
    const commands = this.#redis as unknown as Record<string, (...args: (string | number)[]) => Promise<unknown>>;
    const keys = [this.#factsKey(customerId), this.#writesKey(customerId, key)];
    return (await commands[UPSERT_COMMAND]!(...keys, key, write.eventId, write.occurredMs, JSON.stringify(write))) as UpsertOutcome;
  }

  async facts(customerId: string): Promise<[string, StoredFact][]> {
    const stored = await this.#redis.hgetall(this.#factsKey(customerId));
    return Object.entries(stored).map(([key, text]) => [key, JSON.parse(text) as StoredFact]);
  }

  async writes(customerId: string, key: string): Promise<StoredFact[]> {
    const stored = await this.#redis.hvals(this.#writesKey(customerId, key));
    return stored.map((text) => JSON.parse(text) as StoredFact);
  }

  async close(): Promise<void> {
    if (this.#ownsConnection) await this.#redis.quit().catch(() => this.#redis.disconnect());
  }

  #factsKey(customerId: string): string {
    return `${this.#prefix}facts:${customerId}`;
  }

  /** JSON-encoded, so no customer id and key pair can collide with another. */
  #writesKey(customerId: string, key: string): string {
    return `${this.#prefix}writes:${JSON.stringify([customerId, key])}`;
  }
}

const UPSERT_COMMAND = 'relay_upsertFact';
let upsertFactSource: string | undefined;

/**
 * `upsert-fact.lua`, read once per process from beside this module: the build copies it
 * beside the compiled module (`scripts/copy-lua.mjs`), so the same relative path serves a
 * run from `src` (tsx, vitest) and from `dist`.
 */
function upsertFactLua(): string {
  if (upsertFactSource !== undefined) return upsertFactSource;
  upsertFactSource = readFileSync(new URL('./upsert-fact.lua', import.meta.url), 'utf8');
  return upsertFactSource;
}
