import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { openBackend } from '../../src/backend.js';
import { closeSqlite, openSqlite } from '../../src/log/sqlite/connection.js';
import { SqliteEventLog } from '../../src/log/sqlite/event-log.js';
import { MemorySubscriptionStore } from '../../src/outbound/memory/subscription-store.js';
import { RedisSubscriptionStore } from '../../src/outbound/redis/subscription-store.js';
import { SqliteSubscriptionStore } from '../../src/outbound/sqlite/subscription-store.js';
import { newEvent } from '../support/events.js';
import { skipRedis, useRedisServer } from '../support/redis-server.js';
import { describeSubscriptionStoreContract, subscription } from './subscription-store-contract.js';

describeSubscriptionStoreContract(
  'memory',
  () => {
    const store = new MemorySubscriptionStore();
    return { open: () => store };
  },
  { durable: false, sharedLeases: false },
);

const dir = mkdtempSync(join(tmpdir(), 'relay-webhooks-'));
let files = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeSubscriptionStoreContract(
  'sqlite',
  () => {
    const path = join(dir, `webhooks-${++files}.db`);
    return { open: () => new SqliteSubscriptionStore({ path }) };
  },
  { durable: true, sharedLeases: false },
);

describe('SqliteSubscriptionStore', () => {
  it('shares the event log database and leaves it open on close', async () => {
    const database = openSqlite(join(dir, 'shared.db'));
    const log = new SqliteEventLog({ database });
    const store = new SqliteSubscriptionStore({ database });
    const appended = await log.append(newEvent());
    await store.upsert(subscription('sub_1'), {});
    await store.close();
    expect(database.open).toBe(true);
    expect((await log.read({ after: null })).events.map((e) => e.id)).toEqual([appended.id]);
    expect(database.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'webhook%'`).pluck().all()).toEqual([
      'webhook_subscriptions',
    ]);
    await log.close();
    closeSqlite(database);
  });
});

describe('openBackend', () => {
  it('opens the webhook subscriptions in the log file and closes them with it', async () => {
    const path = join(dir, 'backend.db');
    const first = openBackend({ kind: 'sqlite', path, synchronous: 'normal' });
    expect(first.webhooks.kind).toBe('sqlite');
    await first.webhooks.upsert(subscription('sub_1'), {});
    await first.close();
    const second = openBackend({ kind: 'sqlite', path, synchronous: 'normal' });
    expect(await second.webhooks.get('sub_1')).toEqual(subscription('sub_1'));
    await second.close();
  });
});

if (skipRedis) {
  describe.skip('WebhookSubscriptionStore contract (redis): skipped by RELAY_TEST_SKIP_REDIS=1', () => it('runs against redis-server'));
} else {
  const server = useRedisServer();
  let prefixes = 0;
  describeSubscriptionStoreContract(
    'redis',
    () => {
      const keyPrefix = `webhooks-${++prefixes}:`;
      return { open: () => new RedisSubscriptionStore({ url: server().url, keyPrefix }) };
    },
    { durable: true, sharedLeases: true },
  );

  describe('RedisSubscriptionStore', () => {
    it('keeps its keys under the log prefix and leaves a shared connection open on close', async () => {
      const connection = new Redis(server().url);
      const store = new RedisSubscriptionStore({ connection, keyPrefix: 'layout:' });
      await store.upsert(subscription('sub_1'), {});
      expect(await store.claim('sub_1', 'owner-a', 5000)).toBe(true);
      expect((await connection.keys('layout:*')).sort()).toEqual([
        'layout:webhook:ids',
        'layout:webhook:lease:sub_1',
        'layout:webhook:principals',
        'layout:webhook:sub:sub_1',
      ]);
      expect(await connection.hget('layout:webhook:sub:sub_1', 'expiresAt')).toBe('null');
      expect(await connection.get('layout:webhook:lease:sub_1')).toBe('owner-a');
      expect(await connection.pttl('layout:webhook:lease:sub_1')).toBeGreaterThan(0);
      await store.close();
      expect(await connection.ping()).toBe('PONG');
      await connection.quit();
    });

    it('opens the webhook subscriptions on the log connection', async () => {
      const backend = openBackend({ kind: 'redis', url: server().url, requireDurable: false });
      expect(backend.webhooks.kind).toBe('redis');
      await backend.webhooks.upsert(subscription('sub_b1'), {});
      expect(await backend.webhooks.countFor('alice')).toBe(1);
      await backend.close();
    });
  });
}
