import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { type Relay, startRelay } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/observe/logger.js';
import { type RedisServerOptions, type RedisTestServer, skipRedis, startRedisServer } from '../support/redis-server.js';
import { exited, logRecord, runCli, serveRelay } from '../support/relay-process.js';
import { testRelayEnv } from '../support/relay.js';

/**
 * The start-up check of a Redis store against real `redis-server`s, one per configuration:
 * `CONFIG GET appendonly appendfsync maxmemory-policy` judged against acknowledged-means-
 * durable, each problem one structured warning, `RELAY_REDIS_REQUIRE_DURABLE=1` refusing to
 * start, and `CONFIG` taken away said once.
 */

const servers: RedisTestServer[] = [];
const relays: Relay[] = [];
afterAll(async () => {
  await Promise.all(relays.map((relay) => relay.close()));
  await Promise.all(servers.map((server) => server.stop()));
});

async function redisWith(options: RedisServerOptions): Promise<RedisTestServer> {
  const server = await startRedisServer(options);
  servers.push(server);
  return server;
}

type LogLine = Record<string, unknown>;

/** Starts a relay in this process on `url`, its warnings captured as parsed log lines. */
async function startOn(url: string, env: Record<string, string> = {}): Promise<{ relay: Relay; warnings: LogLine[] }> {
  const warnings: LogLine[] = [];
  const logger = createLogger('warn', { write: (line: string) => void warnings.push(JSON.parse(line) as LogLine) });
  const relay = await startRelay(loadConfig(testRelayEnv({ RELAY_STORE: url, ...env })), logger);
  relays.push(relay);
  return { relay, warnings };
}

const REQUIRE = { RELAY_REDIS_REQUIRE_DURABLE: '1' };
const settingsOf = (warnings: LogLine[]) => warnings.filter((w) => 'setting' in w).map((w) => [w.setting, w.value]);

describe.skipIf(skipRedis)('the Redis durability check at start', () => {
  it('says nothing about a durable Redis (appendonly yes, appendfsync always, noeviction), and starts with the require flag', async () => {
    const server = await redisWith({ appendfsync: 'always' });
    const { relay, warnings } = await startOn(server.url, REQUIRE);
    expect(warnings).toEqual([]);
    expect(await (await fetch(`${relay.url}/healthz`)).json()).toMatchObject({ status: 'ok', store: 'redis' });
  });

  it('warns once per setting, naming it, its value and the fix, when appendonly is no (and appendfsync everysec), and still starts', async () => {
    const server = await redisWith({});
    const { relay, warnings } = await startOn(server.url);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatchObject({
      level: 40,
      setting: 'appendonly',
      value: 'no',
      expected: 'yes',
      fix: 'appendonly yes in redis.conf, or CONFIG SET appendonly yes',
      msg: 'Redis appendonly is no: a Redis restart loses every write since its last snapshot; set appendonly yes',
    });
    expect(warnings[1]).toMatchObject({ setting: 'appendfsync', value: 'everysec', expected: 'always', fix: 'appendfsync always in redis.conf, or CONFIG SET appendfsync always' });
    expect(warnings[1]!.msg).toMatch(/^Redis appendfsync is everysec: a Redis crash loses up to the last second of writes/);
    expect(await (await fetch(`${relay.url}/healthz`)).json()).toMatchObject({ status: 'ok' });
  });

  it('warns about appendfsync alone when the append-only file is fsynced every second (or left to the OS)', async () => {
    const server = await redisWith({ appendfsync: 'everysec' });
    expect(settingsOf((await startOn(server.url)).warnings)).toEqual([['appendfsync', 'everysec']]);
    const admin = new Redis(server.url);
    await admin.config('SET', 'appendfsync', 'no');
    await admin.quit();
    const { warnings } = await startOn(server.url);
    expect(settingsOf(warnings)).toEqual([['appendfsync', 'no']]);
    expect(warnings[0]!.risk).toBe('a crash of the machine loses what the OS had not written yet');
  });

  it('warns about every evicting maxmemory-policy, allkeys-* and volatile-* alike', async () => {
    const server = await redisWith({ appendfsync: 'always', maxmemoryPolicy: 'allkeys-lru' });
    const admin = new Redis(server.url);
    for (const policy of ['allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl']) {
      await admin.config('SET', 'maxmemory-policy', policy);
      const { warnings } = await startOn(server.url);
      expect(settingsOf(warnings)).toEqual([['maxmemory-policy', policy]]);
      expect(warnings[0]).toMatchObject({ expected: 'noeviction', fix: 'maxmemory-policy noeviction in redis.conf, or CONFIG SET maxmemory-policy noeviction' });
    }
    await admin.quit();
  });

  it('refuses to start with RELAY_REDIS_REQUIRE_DURABLE=1, naming every setting to change in one line', async () => {
    const server = await redisWith({ maxmemoryPolicy: 'volatile-lru' });
    const attempt = startOn(server.url, REQUIRE);
    await expect(attempt).rejects.toThrow(
      'RELAY_REDIS_REQUIRE_DURABLE=1: Redis does not keep acknowledged events: appendonly is no (set appendonly yes), appendfsync is everysec (set appendfsync always), maxmemory-policy is volatile-lru (set maxmemory-policy noeviction)',
    );
  });

  it.each([
    ['renamed away', 'renamed', /^CONFIG GET is not available \(ERR unknown command 'config'/],
    ['denied by an ACL', 'denied', /^CONFIG GET is not available \(NOPERM /],
  ] as const)('says once that it could not verify when CONFIG is %s, and with the require flag refuses', async (_, configCommand, reason) => {
    const server = await redisWith({ appendfsync: 'always', configCommand });
    const { relay, warnings } = await startOn(server.url);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 40, reason: expect.stringMatching(reason), fix: 'appendonly yes, appendfsync always, maxmemory-policy noeviction on the Redis server' });
    expect(warnings[0]!.msg).toMatch(/^could not verify Redis durability: CONFIG GET is not available .*; check its settings by hand$/);
    expect(await (await fetch(`${relay.url}/healthz`)).json()).toMatchObject({ status: 'ok' });
    await expect(startOn(server.url, REQUIRE)).rejects.toThrow(/^RELAY_REDIS_REQUIRE_DURABLE=1: could not verify that Redis keeps acknowledged events: CONFIG GET is not available/);
  });

  it('refuses with the require flag when Redis does not answer at start, saying it could not verify', async () => {
    const server = await redisWith({ appendfsync: 'always' });
    await server.kill();
    await expect(startOn(server.url, REQUIRE)).rejects.toThrow(/^RELAY_REDIS_REQUIRE_DURABLE=1: could not verify that Redis keeps acknowledged events: Redis did not answer CONFIG GET/);
  });

  it('through serve: a warning is a JSON log line on stdout; a refusal is one line on stderr and exit status 1', async () => {
    const server = await redisWith({ appendfsync: 'everysec' });
    const served = await serveRelay({ RELAY_STORE: server.url });
    served.child.kill('SIGTERM');
    expect(await exited(served.child)).toBe(0);
    expect(served.lines.map(logRecord).filter((line) => line?.setting)).toEqual([expect.objectContaining({ level: 40, setting: 'appendfsync', value: 'everysec' })]);

    const refused = runCli(['serve', '--port', '0'], { RELAY_STORE: server.url, RELAY_REACTIONS: 'off', ...REQUIRE });
    let stderr = '';
    let stdout = '';
    refused.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    refused.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    expect(await exited(refused)).toBe(1);
    expect(stderr).toBe(
      'mcp-event-relay: RELAY_REDIS_REQUIRE_DURABLE=1: Redis does not keep acknowledged events: appendfsync is everysec (set appendfsync always)\n',
    );
    expect(stdout).not.toContain('listening');
  });
});
