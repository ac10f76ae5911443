import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CallbackReceiver } from '../support/callback-receiver.js';
import { eventually, ingest, keys } from '../support/mcp-clients.js';
import { type RedisTestServer, skipRedis, startRedisServer } from '../support/redis-server.js';
import { secretEnv } from '../support/relay.js';
import { exited, logRecord, type RelayProcess, serveRelay } from '../support/relay-process.js';
import { subscribeTo } from '../support/webhook-rpc.js';

const EVENTS = 120;

const baseEnv = {
  ...secretEnv,
  RELAY_API_KEYS: `${keys.alice}:alice`,
  RELAY_WEBHOOK_ALLOW: 'loopback',
  RELAY_WEBHOOK_RETRY: '100ms,200ms,400ms,800ms,1600ms',
  RELAY_LOG_LEVEL: 'info',
};

/** A receiver that takes its time, so a kill lands mid-stream. */
async function slowReceiver(): Promise<CallbackReceiver> {
  const receiver = await new CallbackReceiver().start();
  receiver.script = () => ({ status: 200, delayMs: 5 });
  return receiver;
}

async function kill(relay: RelayProcess): Promise<void> {
  relay.child.kill('SIGKILL');
  await exited(relay.child);
}

function delivers(relay: RelayProcess): boolean {
  return relay.lines.some((line) => logRecord(line)?.msg === 'delivering webhook subscription');
}

describe('webhook delivery survives kill -9', () => {
  const dir = mkdtempSync(join(tmpdir(), 'relay-webhook-durable-'));
  const running: RelayProcess[] = [];
  let receiver: CallbackReceiver | undefined;
  afterEach(async () => {
    await Promise.all(running.splice(0).map((r) => kill(r)));
    await receiver?.stop();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('SQLite: a relay killed mid-stream resumes from the last acknowledged event; nothing is missing', async () => {
    receiver = await slowReceiver();
    const env = { ...baseEnv, RELAY_STORE: `sqlite:${join(dir, 'relay.db')}` };
    const first = await serveRelay(env);
    running.push(first);
    expect((await subscribeTo(first, receiver)).error).toBeUndefined();
    const ids: string[] = [];
    for (let i = 0; i < EVENTS; i++) ids.push(await ingest(first));
    await receiver.deliveries.until(() => receiver!.accepted().length >= EVENTS / 4, 'a quarter delivered');
    await kill(running.shift()!);
    const atKill = receiver.accepted().length;
    expect(atKill).toBeLessThan(EVENTS);
    running.push(await serveRelay(env));
    await receiver.deliveries.until(() => receiver!.accepted().length === EVENTS, 'every event after the restart', 30_000);
    expect(receiver.accepted()).toEqual(ids);
  });
});

describe.skipIf(skipRedis)('webhook delivery on three instances sharing Redis', () => {
  let redis: RedisTestServer;
  const running: RelayProcess[] = [];
  let receiver: CallbackReceiver | undefined;
  afterEach(async () => {
    await Promise.all(running.splice(0).map((r) => kill(r)));
    await receiver?.stop();
    await redis?.stop();
  });

  it('one instance delivers at a time; killing it hands the subscription to another, nothing missing', async () => {
    redis = await startRedisServer({ appendfsync: 'always' });
    receiver = await slowReceiver();
    const env = { ...baseEnv, RELAY_STORE: redis.url, RELAY_WEBHOOK_LEASE: '2s' };
    running.push(...(await Promise.all([serveRelay(env), serveRelay(env), serveRelay(env)])));
    expect((await subscribeTo(running[0]!, receiver)).error).toBeUndefined();
    const ids: string[] = [];
    for (let i = 0; i < EVENTS; i++) ids.push(await ingest(running[i % 3]!));
    await receiver.deliveries.until(() => receiver!.accepted().length >= EVENTS / 4, 'a quarter delivered');
    const deliverers = running.filter(delivers);
    expect(deliverers).toHaveLength(1);
    const victim = deliverers[0]!;
    running.splice(running.indexOf(victim), 1);
    await kill(victim);
    expect(receiver.accepted().length).toBeLessThan(EVENTS);
    await receiver.deliveries.until(() => receiver!.accepted().length === EVENTS, 'every event after the takeover', 30_000);
    expect(receiver.accepted()).toEqual(ids);
    await eventually(async () => (running.filter(delivers).length === 1 ? true : undefined), 'exactly one survivor delivering');
  });
});
