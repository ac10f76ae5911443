import type { Redis } from 'ioredis';
import { connectRedis, redisConnectionSchema, type RedisConnectionOptions } from '../../log/redis/connection.js';
import { PATCH_FIELDS, type SubscriptionPatch, type WebhookSubscription, type WebhookSubscriptionStore } from '../subscription-store.js';
import { defineSubscriptionScripts, type RunSubscriptionScript, type SubscriptionScript } from './scripts.js';

/** A connection of its own, or the one the event log uses (`openBackend`), which its opener closes. */
export type RedisSubscriptionStoreOptions =
  | RedisConnectionOptions
  | {
      /** A connection shared with the event log; `close` leaves it open. */
      connection: Redis;
      /** The log's key prefix (default `relay:`). */
      keyPrefix?: string;
    };


/**
 * Webhook subscriptions on Redis, beside the event log under its key prefix:
 *
 * - `<prefix>webhook:sub:<id>`: hash, one field per subscription field, JSON-encoded;
 * - `<prefix>webhook:ids`: sorted set of ids, every score 0, so it lists in byte order;
 * - `<prefix>webhook:principals`: hash, principal → how many subscriptions it has;
 * - `<prefix>webhook:lease:<id>`: string, the owner delivering the subscription, expiring (PX) with the lease.
 *
 * Every write is one Lua script, so relay instances sharing the server make one record per
 * id, and a delivery fenced by its lease never writes once another instance took it over.
 */
export class RedisSubscriptionStore implements WebhookSubscriptionStore {
  readonly kind = 'redis' as const;
  readonly #redis: Redis;
  /** Whether `close` closes the connection: not when it is shared. */
  readonly #ownsConnection: boolean;
  readonly #prefix: string;
  readonly #scripts: Record<SubscriptionScript, RunSubscriptionScript>;

  constructor(options: RedisSubscriptionStoreOptions) {
    if ('connection' in options) {
      const prefix = redisConnectionSchema.shape.keyPrefix.safeParse(options.keyPrefix);
      if (!prefix.success) throw new Error(`invalid Redis subscription store options: ${prefix.error.issues[0]?.message}`);
      this.#redis = options.connection;
      this.#ownsConnection = false;
      this.#prefix = `${prefix.data}webhook:`;
    } else {
      const parsed = redisConnectionSchema.safeParse(options);
      if (!parsed.success) throw new Error(`invalid Redis subscription store options: ${parsed.error.issues[0]?.message}`);
      this.#redis = connectRedis(parsed.data.url, parsed.data.commandTimeoutMs);
      this.#ownsConnection = true;
      this.#prefix = `${parsed.data.keyPrefix}webhook:`;
    }
    this.#scripts = defineSubscriptionScripts(this.#redis);
  }

  async upsert(fresh: WebhookSubscription, refresh: SubscriptionPatch): Promise<{ subscription: WebhookSubscription; created: boolean }> {
    const keys = [this.#subscriptionKey(fresh.id), this.#idsKey(), this.#principalsKey()];
    const args = [fresh.id, fresh.principal, encodeFields(Object.entries(fresh)), encodeFields(patchEntries(refresh))];
    const [created, stored] = (await this.#scripts.upsert(keys, args)) as [number, string[]];
    return { subscription: decodeHash(stored), created: created === 1 };
  }

  async get(id: string): Promise<WebhookSubscription | undefined> {
    const stored = await this.#redis.hgetall(this.#subscriptionKey(id));
    return Object.keys(stored).length === 0 ? undefined : fromHash(stored);
  }

  async list(): Promise<WebhookSubscription[]> {
    const ids = await this.#redis.zrangebylex(this.#idsKey(), '-', '+');
    if (ids.length === 0) return [];
    const pipeline = this.#redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.#subscriptionKey(id));
    const replies = (await pipeline.exec()) ?? [];
    const subscriptions: WebhookSubscription[] = [];
    for (const [error, stored] of replies) {
      if (error) throw error;
      // Removed between reading the ids and reading it.
      if (Object.keys(stored as Record<string, string>).length > 0) subscriptions.push(fromHash(stored as Record<string, string>));
    }
    return subscriptions;
  }

  async countFor(principal: string): Promise<number> {
    return Number((await this.#redis.hget(this.#principalsKey(), principal)) ?? 0);
  }

  async update(id: string, patch: SubscriptionPatch, owner?: string): Promise<boolean> {
    const fenced = owner === undefined ? ['0', ''] : ['1', owner];
    return (await this.#scripts.update([this.#subscriptionKey(id), this.#leaseKey(id)], [encodeFields(patchEntries(patch)), ...fenced])) === 1;
  }

  async remove(id: string): Promise<boolean> {
    const keys = [this.#subscriptionKey(id), this.#idsKey(), this.#principalsKey(), this.#leaseKey(id)];
    return (await this.#scripts.remove(keys, [id])) === 1;
  }

  async claim(id: string, owner: string, ttlMs: number): Promise<boolean> {
    // PX takes a whole number of ms, at least 1.
    const px = Math.max(1, Math.ceil(ttlMs));
    return (await this.#scripts.claim([this.#subscriptionKey(id), this.#leaseKey(id)], [owner, px])) === 1;
  }

  async release(id: string, owner: string): Promise<void> {
    await this.#scripts.release([this.#leaseKey(id)], [owner]);
  }

  async close(): Promise<void> {
    if (this.#ownsConnection) await this.#redis.quit().catch(() => this.#redis.disconnect());
  }

  #subscriptionKey(id: string): string {
    return `${this.#prefix}sub:${id}`;
  }

  #idsKey(): string {
    return `${this.#prefix}ids`;
  }

  #principalsKey(): string {
    return `${this.#prefix}principals`;
  }

  #leaseKey(id: string): string {
    return `${this.#prefix}lease:${id}`;
  }
}

/** The patch's set fields (`null` included) that a patch may write. */
function patchEntries(patch: SubscriptionPatch): [string, unknown][] {
  return PATCH_FIELDS.filter((field) => patch[field] !== undefined).map((field) => [field, patch[field]]);
}

/** Fields as the scripts take them: a JSON object of field name → JSON-encoded value. */
function encodeFields(entries: [string, unknown][]): string {
  const set = entries.filter(([, value]) => value !== undefined);
  return JSON.stringify(Object.fromEntries(set.map(([field, value]) => [field, JSON.stringify(value)])));
}

function fromHash(stored: Record<string, string>): WebhookSubscription {
  return Object.fromEntries(Object.entries(stored).map(([field, value]) => [field, JSON.parse(value) as unknown])) as unknown as WebhookSubscription;
}

/** A hash as HGETALL lists it from a script: field, value, field, value, … */
function decodeHash(flat: string[]): WebhookSubscription {
  const stored: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) stored[flat[i]!] = flat[i + 1]!;
  return fromHash(stored);
}
