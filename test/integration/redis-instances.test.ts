import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { EventLog } from '../../src/log/event-log.js';
import { RedisEventLog } from '../../src/log/redis/event-log.js';
import { RedisCustomerMemory } from '../../src/customer-memory/redis/customer-memory.js';
import { until } from '../contract/log-factory.js';
import { Balancer } from '../support/balancer.js';
import { collect } from '../support/collect.js';
import { manualClock, newEvent } from '../support/events.js';
import { skipRedis, startRedisServer, useRedisServer } from '../support/redis-server.js';

describe.skipIf(skipRedis)('several RedisEventLog instances on one server', () => {
  const server = useRedisServer();
  let n = 0;
  const open: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((log) => log.close()));
  });

  /** Two instances on one log, as two relay processes would open it. */
  function pair(): [EventLog, EventLog] {
    const keyPrefix = `instances-${++n}:`;
    const a = new RedisEventLog({ url: server().url, keyPrefix });
    const b = new RedisEventLog({ url: server().url, keyPrefix });
    open.push(a, b);
    return [a, b];
  }

  it('orders concurrent appends from both instances in one strictly increasing sequence', async () => {
    const [a, b] = pair();
    const writers = [a, b].flatMap((log) => Array.from({ length: 10 }, async () => {
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) ids.push((await log.append(newEvent())).id);
      return ids;
    }));
    const written = (await Promise.all(writers)).flat();
    const logged = (await b.read({ after: null, limit: 1000 })).events.map((e) => e.id);
    expect(logged).toHaveLength(400);
    expect(logged).toEqual([...logged].sort());
    expect([...logged].sort()).toEqual([...written].sort());
    expect(await a.head()).toBe(logged.at(-1));
  });

  it('commits exactly one of the same upstream event appended on both instances at once', async () => {
    const [a, b] = pair();
    const input = newEvent();
    const results = await Promise.all([a, b, a, b].map((log) => log.append({ ...input })));
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
  });

  it('delivers commits made on another instance to a follower, each once and in order', async () => {
    const [a, b] = pair();
    const backlog = (await b.append([newEvent(), newEvent()])).map((r) => r.id);
    const follower = collect(a, { after: null });
    const seen = follower.events;
    await follower.live;
    const racing = await Promise.all(Array.from({ length: 5 }, async () => {
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) ids.push((await b.append(newEvent())).id);
      return ids;
    }));
    await until(() => seen.length >= 102);
    const all = (await a.read({ after: null, limit: 1000 })).events.map((e) => e.id);
    expect(seen.map((e) => e.id)).toEqual(all);
    expect(all).toEqual([...backlog, ...racing.flat()].sort());
    follower.reader.stop();
  });

  it('brings another instance\'s commit to many caught-up followers with one read, not one per follower', async () => {
    const [a, b] = pair();
    await b.append(newEvent());
    const followers = Array.from({ length: 50 }, () => collect(a, { after: null }));
    const seen = followers.map((f) => f.events);
    await Promise.all(followers.map((f) => f.live));
    // A first foreign commit reaches them only once A listens to the commit channel.
    await b.append(newEvent());
    await until(() => seen.every((list) => list.length === 2));
    const before = await scriptCalls();
    const { id } = await b.append(newEvent());
    await until(() => seen.every((list) => list.length === 3));
    expect(seen.every((list) => list[2]!.id === id)).toBe(true);
    expect((await scriptCalls()) - before).toBeLessThan(10);
    for (const f of followers) f.reader.stop();
  });

  /** Lua script calls the server has run (appends, reads, claims, …). */
  async function scriptCalls(): Promise<number> {
    const probe = new Redis(server().url);
    const info = await probe.info('commandstats');
    await probe.quit();
    return [...info.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
  }

  it('never leases one event to claimers on two instances at once', async () => {
    const [a, b] = pair();
    const ids = (await a.append(Array.from({ length: 100 }, () => newEvent()))).map((r) => r.id);
    const batches = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).claim('workers', { limit: 7 })));
    const claimed = batches.flat().map((e) => e.id);
    expect(new Set(claimed).size).toBe(claimed.length);
    expect(claimed.sort()).toEqual(ids);
    await b.ack('workers', ids.slice(0, 50));
    expect(await a.pending('workers')).toMatchObject({ pending: 50, leased: 50 });
  });

  it('matches claim filters in Redis exactly as reads match them, globs and pattern characters included', async () => {
    const [a] = pair();
    await a.append([
      newEvent({ type: 'payment.failed', subject: 'order:(1)' }),
      newEvent({ type: 'payment.failed.v2', source: 'acme', subject: undefined }),
      newEvent({ type: 'refund.updated', subject: '50% off [x]' }),
      newEvent({ type: 'paymentXfailed', subject: 'a.b' }),
      newEvent({ type: 'ticket\ncreated', source: 'zendesk', subject: 'ticket:*' }),
    ]);
    const filters = [
      { types: ['payment.*'] },
      { types: ['*.failed'] },
      { types: ['payment.failed'] },
      { types: ['ticket*created'] },
      { sources: ['acme', 'zendesk'] },
      { subjects: ['order:(1)', '50% off [x]'] },
      { subjects: ['*'] },
      { subjects: ['a?b', 'ticket:*'] },
      { types: ['*'], sources: ['stripe'], subjects: ['*:*'] },
    ];
    for (const [i, filter] of filters.entries()) {
      const group = `filter-${i}`;
      const read = (await a.read({ after: null, filter })).events.map((e) => e.id);
      const claimed = (await a.claim(group, { filter, limit: 100 })).map((e) => e.id);
      expect(claimed, JSON.stringify(filter)).toEqual(read);
    }
  });

  it('leaves no per-event state behind for trimmed events or expired dedup keys', async () => {
    const clock = manualClock();
    const keyPrefix = `trim-${++n}:`;
    const log = new RedisEventLog({ url: server().url, keyPrefix, now: clock.now, dedupWindowMs: 60_000 });
    open.push(log);
    await log.append(Array.from({ length: 10 }, () => newEvent()));
    await log.claim('g', { limit: 10 });
    await log.trim({ maxEvents: 4 });
    const probe = new Redis(server().url);
    const sizes = async () => [
      await probe.xlen(`${keyPrefix}log:events`),
      await probe.hlen(`${keyPrefix}log:ids`),
      await probe.hlen(`${keyPrefix}log:deliveries:g`),
      await probe.hlen(`${keyPrefix}log:dedup`),
      await probe.zcard(`${keyPrefix}log:dedup-at`),
    ];
    expect(await sizes()).toEqual([4, 4, 4, 10, 10]);
    clock.advance(60_001);
    expect(await log.trim({ maxEvents: 0 })).toEqual({ removed: 4, dedupKeysRemoved: 10 });
    expect(await sizes()).toEqual([0, 0, 0, 0, 0]);
    await probe.quit();
  });

  it('keeps logs with different key prefixes apart on one server', async () => {
    const [a] = pair();
    const [other] = pair();
    await a.append(newEvent());
    expect(await other.head()).toBeNull();
    expect((await other.read({ after: null })).events).toEqual([]);
  });

  it('agrees on one current customer fact written through two instances', async () => {
    const keyPrefix = `memory-${++n}:`;
    const a = new RedisCustomerMemory({ url: server().url, keyPrefix });
    const b = new RedisCustomerMemory({ url: server().url, keyPrefix });
    open.push(a, b);
    await a.upsert('cus_1', 'k', 'newer', { eventId: 'E2', occurredAt: '2026-01-01T00:05:00Z' });
    expect(await b.upsert('cus_1', 'k', 'older', { eventId: 'E1', occurredAt: '2026-01-01T00:01:00Z' })).toBe('stale');
    expect(await b.upsert('cus_1', 'k', 'newer', { eventId: 'E2', occurredAt: '2026-01-01T00:05:00Z' })).toBe('duplicate');
    expect((await a.get('cus_1')).facts.k?.value).toBe('newer');
  });
});

describe.skipIf(skipRedis)('RedisEventLog when Redis goes away', () => {
  const server = useRedisServer({ appendfsync: 'always' });
  const open: { close(): Promise<void> }[] = [];
  afterAll(async () => {
    await Promise.all(open.splice(0).map((log) => log.close()));
  });

  it('fails appends, reads and claims with store_unavailable while Redis is down, then reconnects on its own', async () => {
    const a = new RedisEventLog({ url: server().url, keyPrefix: 'outage:' });
    const b = new RedisEventLog({ url: server().url, keyPrefix: 'outage:' });
    const memory = new RedisCustomerMemory({ url: server().url, keyPrefix: 'outage:' });
    open.push(a, b, memory);
    const before = await a.append(newEvent());
    const follower = collect(a, { after: before.id });
    await follower.live;

    await server().kill();
    await expect(a.append(newEvent())).rejects.toMatchObject({ code: 'store_unavailable' });
    await expect(a.read({ after: null })).rejects.toMatchObject({ code: 'store_unavailable' });
    await expect(a.claim('g')).rejects.toMatchObject({ code: 'store_unavailable' });
    await expect(memory.get('cus_1')).rejects.toMatchObject({ code: 'store_unavailable' });

    await server().restart();
    const after = await retry(() => b.append(newEvent()));
    expect(after.id > before.id).toBe(true);
    expect((await retry(() => a.read({ after: null }))).events.map((e) => e.id)).toEqual([before.id, after.id]);
    await until(() => follower.events.length === 1);
    expect(follower.ids()).toEqual([after.id]);
    follower.reader.stop();
  });

  it('closes cleanly while its commit subscription is being re-established, leaving no rejection unhandled', async () => {
    const balancer = await Balancer.start(server().port);
    const log = new RedisEventLog({ url: `redis://127.0.0.1:${balancer.port}`, keyPrefix: 'resubscribe:' });
    open.push(log);
    const follower = collect(log, { after: null });
    await follower.live;
    const stalled = balancer.holdReplies(/subscribe/i);
    balancer.cut();
    await stalled;
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => void unhandled.push(reason);
    process.on('unhandledRejection', record);
    try {
      follower.reader.stop();
      await log.close();
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      process.off('unhandledRejection', record);
      await balancer.close();
    }
    expect(unhandled).toEqual([]);
  });
});

/** Retries while the client is still reconnecting; a persistent failure surfaces. */
async function retry<T>(fn: () => Promise<T>, attempts = 50): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (error) {
      if (i >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

describe('Redis backend set-up', () => {
  it('rejects a store URL that is not redis:// or rediss:// before connecting', () => {
    const caught = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return error;
      }
      return undefined;
    };
    expect(caught(() => new RedisEventLog({ url: 'http://127.0.0.1:6379' }))).toMatchObject({ code: 'invalid_argument' });
    expect(caught(() => new RedisCustomerMemory({ url: '127.0.0.1:6379' }))).toMatchObject({ code: 'invalid_input' });
  });

  it('says how to install redis-server when the binary is not on PATH', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      await expect(startRedisServer()).rejects.toThrow('apt-get install -y redis-server');
    } finally {
      process.env.PATH = path;
    }
  });
});
