import type { StoreConfig } from './config.js';
import type { CustomerMemory } from './customer-memory/customer-memory.js';
import { MemoryCustomerMemory } from './customer-memory/memory/customer-memory.js';
import { RedisCustomerMemory } from './customer-memory/redis/customer-memory.js';
import { SqliteCustomerMemory } from './customer-memory/sqlite/customer-memory.js';
import type { EventLog } from './log/event-log.js';
import type { LogOptions } from './log/log-options.js';
import { MemoryEventLog } from './log/memory/event-log.js';
import { connectRedis, redisConnectionSchema } from './log/redis/connection.js';
import { checkRedisDurability, type DurabilityWarnings } from './log/redis/durability.js';
import { RedisEventLog } from './log/redis/event-log.js';
import { closeSqlite, openSqlite } from './log/sqlite/connection.js';
import { SqliteEventLog } from './log/sqlite/event-log.js';
import { parseArgument } from './log/validate.js';
import { MemorySubscriptionStore } from './outbound/memory/subscription-store.js';
import { RedisSubscriptionStore } from './outbound/redis/subscription-store.js';
import { SqliteSubscriptionStore } from './outbound/sqlite/subscription-store.js';
import type { WebhookSubscriptionStore } from './outbound/subscription-store.js';

/** The stores of one relay, opened together on the configured backend. */
export interface Backend {
  readonly log: EventLog;
  /** What the reactions know per customer: in the log's SQLite file (its own tables), or under the log's Redis key prefix. */
  readonly memory: CustomerMemory;
  /** Webhook subscriptions (`events/subscribe`): in the log's SQLite file (its own tables), or under the log's Redis key prefix. */
  readonly webhooks: WebhookSubscriptionStore;
  /**
   * Checks once, at start, that the store keeps what the relay acknowledges. On Redis: its
   * persistence and eviction settings, each problem a warning (or, with `requireDurable`, a
   * refusal that rejects); SQLite's and memory's durability is the relay's own setting.
   */
  checkDurability(warnings: DurabilityWarnings): Promise<void>;
  /** Closes the customer memory and the webhook subscriptions, then the log, then the connection they share. */
  close(): Promise<void>;
}

/**
 * Opens the log, the customer memory and the webhook subscriptions on one connection to the
 * store: one Redis client, or one SQLite database handle. Sharing the handle changes neither
 * durability nor locking: the handle has the pragmas every store of the relay sets (WAL,
 * `synchronous`, `busy_timeout`), every write of each store runs as one synchronous statement
 * or `BEGIN IMMEDIATE` transaction (better-sqlite3), so they never interleave on the handle,
 * and other processes still meet the one file lock.
 */
export function openBackend(store: StoreConfig, log: LogOptions = {}): Backend {
  if (store.kind === 'memory') return backend(new MemoryEventLog(log), new MemoryCustomerMemory(), new MemorySubscriptionStore(), () => {}, unchecked);
  if (store.kind === 'redis') {
    const { url, keyPrefix, commandTimeoutMs } = parseArgument(redisConnectionSchema, { url: store.url }, 'Redis log options');
    const connection = connectRedis(url, commandTimeoutMs);
    return opened(
      () =>
        backend(
          new RedisEventLog({ connection, keyPrefix, ...log }),
          new RedisCustomerMemory({ connection, keyPrefix }),
          new RedisSubscriptionStore({ connection, keyPrefix }),
          () => connection.quit().catch(() => connection.disconnect()),
          (warnings) => checkRedisDurability(connection, store.requireDurable, warnings),
        ),
      () => connection.disconnect(),
    );
  }
  const database = openSqlite(store.path, store.synchronous);
  return opened(
    () =>
      backend(
        new SqliteEventLog({ database, ...log }),
        new SqliteCustomerMemory({ database }),
        new SqliteSubscriptionStore({ database }),
        () => closeSqlite(database),
        unchecked,
      ),
    () => closeSqlite(database),
  );
}

/** The stores built on an open connection; the connection is closed if building them fails. */
function opened(build: () => Backend, closeConnection: () => void): Backend {
  try {
    return build();
  } catch (error) {
    closeConnection();
    throw error;
  }
}

/** The durability check of the stores whose durability is the relay's own setting. */
const unchecked = async () => {};

function backend(
  log: EventLog,
  memory: CustomerMemory,
  webhooks: WebhookSubscriptionStore,
  closeConnection: () => unknown,
  checkDurability: Backend['checkDurability'],
): Backend {
  let closing: Promise<void> | undefined;
  return {
    log,
    memory,
    webhooks,
    checkDurability,
    close: () =>
      (closing ??= (async () => {
        await memory.close();
        await webhooks.close();
        await log.close();
        await closeConnection();
      })()),
  };
}
