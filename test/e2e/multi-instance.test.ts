import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventClient, type EventClient } from '../../client/index.js';
import type { Event } from '../../src/events/event.js';
import { LOG_START } from '../../src/events/ulid.js';
import { Balancer } from '../support/balancer.js';
import { Inbox, ingest, keys, modernPost, modernStream, postStandardWebhook, readRpc, rpcOf } from '../support/mcp-clients.js';
import { type RedisTestServer, skipRedis, startRedisServer } from '../support/redis-server.js';
import { secretEnv } from '../support/relay.js';
import { exited, type RelayProcess, serveRelay } from '../support/relay-process.js';
import type { SseReader } from '../support/sse-reader.js';

/** Three relay processes on one Redis: the deployment of README "Scaling out". */
async function startCluster(redis: RedisTestServer): Promise<RelayProcess[]> {
  const env = { ...secretEnv, RELAY_STORE: redis.url, RELAY_API_KEYS: `${keys.alice}:alice`, RELAY_HEARTBEAT: '500ms' };
  return Promise.all([serveRelay(env), serveRelay(env), serveRelay(env)]);
}

/** The log positions a raw `events/stream` carried, in arrival order. */
const streamedIds = (stream: SseReader) => stream.eventFrames().map((frame) => rpcOf(frame).params!.cursor as string);

/** Every event the cluster holds after `after`, in log order, read through one instance's `events/poll`. */
async function logOrder(relay: RelayProcess, after: string): Promise<Event[]> {
  const events: Event[] = [];
  let cursor = after;
  for (;;) {
    const { result } = await readRpc(await modernPost(relay, 'events/poll', { name: 'cx_events', cursor, maxEvents: 1000 }));
    events.push(...(result!.events as { data: Event }[]).map((occurrence) => occurrence.data));
    cursor = result!.cursor as string;
    if (!result!.hasMore) return events;
  }
}

describe.skipIf(skipRedis)('three instances on one Redis, one instance killed mid-stream', () => {
  let redis: RedisTestServer;
  let cluster: RelayProcess[];
  let balancer: Balancer;
  const clients: EventClient[] = [];

  beforeAll(async () => {
    redis = await startRedisServer();
    cluster = await startCluster(redis);
    balancer = await Balancer.start(cluster[1]!.port);
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await balancer?.close();
    for (const relay of cluster ?? []) relay.child.kill('SIGKILL');
    await redis?.stop();
  });

  it('resumes a push subscriber on another instance with exactly the missed events, while a tools group splits work across two', async () => {
    const [a, b, c] = cluster as [RelayProcess, RelayProcess, RelayProcess];
    const start = await ingest(a);

    // The push subscriber reaches B through the balancer; the tools group is worked from A and C.
    let stream = await modernStream({ url: balancer.url }, { cursor: start });
    const worked = new Inbox<{ via: string; id: string }>();
    for (const [via, relay] of [['a', a], ['c', c]] as const) {
      const client = createEventClient({ url: `${relay.url}/mcp`, token: keys.alice, mode: 'tools', toolsIntervalMs: 20, reconnect: { initialDelayMs: 20, maxDelayMs: 200 } });
      clients.push(client);
      await client.subscribe({ group: 'alice/workers', filter: { types: ['payment.failed'] }, onEvent: (event) => worked.push({ via, id: event.id }) });
    }

    const firstHalf = [];
    for (let i = 0; i < 30; i++) firstHalf.push(await ingest(cluster[i % 3]!));
    await stream.untilEvents(10);

    // B dies without a word; the balancer sends new connections to C.
    balancer.route(c.port);
    b.child.kill('SIGKILL');
    await exited(b.child);
    await stream.done;
    const beforeKill = streamedIds(stream);

    const secondHalf = [];
    for (let i = 0; i < 30; i++) secondHalf.push(await ingest(i % 2 === 0 ? a : c));
    const sent = [...firstHalf, ...secondHalf];

    stream = await modernStream({ url: balancer.url }, { cursor: beforeKill.at(-1) });
    const missed = sent.length - beforeKill.length;
    await stream.untilEvents(missed);
    const afterKill = streamedIds(stream);

    const order = (await logOrder(a, start)).map((event) => event.id);
    expect(order).toEqual([...sent].sort());
    expect([...beforeKill, ...afterKill]).toEqual(order);

    await worked.until((items) => items.length >= sent.length + 1, 'the tools group working every event');
    const workedIds = worked.items.map((item) => item.id);
    expect(new Set(workedIds).size).toBe(workedIds.length);
    expect([...workedIds].sort()).toEqual([start, ...order]);
    expect(new Set(worked.items.map((item) => item.via))).toEqual(new Set(['a', 'c']));
    stream.close();
  });
});

describe.skipIf(skipRedis)('three instances on one Redis that restarts mid-load', () => {
  let redis: RedisTestServer;
  let cluster: RelayProcess[];

  beforeAll(async () => {
    redis = await startRedisServer({ appendfsync: 'always' });
    cluster = await startCluster(redis);
  });
  afterAll(async () => {
    for (const relay of cluster ?? []) relay.child.kill('SIGKILL');
    await redis?.stop();
  });

  it('loses and doubles no webhook that got a 2xx, and every instance reconnects on its own', async () => {
    const acknowledged = new Map<string, string>();
    const refusals: number[] = [];
    const servedAfterRestart = new Set<number>();
    let restarted = false;
    let stop = false;

    // Senders retry a refused delivery with the same webhook id, as providers do.
    const sender = async (lane: number) => {
      for (let n = 0; !stop; n++) {
        const webhookId = `msg_lane${lane}_${n}`;
        for (let attempt = 0; !acknowledged.has(webhookId); attempt++) {
          const target = (lane + n + attempt) % 3;
          const res = await postStandardWebhook(cluster[target]!, { webhookId }).catch(() => undefined);
          if (res?.status === 200) {
            acknowledged.set(webhookId, ((await res.json()) as { id: string }).id);
            if (restarted) servedAfterRestart.add(target);
          } else {
            refusals.push(res?.status ?? 0);
            await res?.body?.cancel();
            await new Promise((resolve) => setTimeout(resolve, 25));
          }
        }
      }
    };
    const lanes = Promise.all(Array.from({ length: 6 }, (_, lane) => sender(lane)));

    const progress = async (count: number) => {
      while (acknowledged.size < count) await new Promise((resolve) => setTimeout(resolve, 10));
    };
    await progress(150);
    await redis.kill(true);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await redis.restart();
    restarted = true;
    const atRestart = acknowledged.size;
    await progress(atRestart + 150);
    while (servedAfterRestart.size < 3) await new Promise((resolve) => setTimeout(resolve, 10));
    stop = true;
    await lanes;

    const events = await logOrder(cluster[0]!, LOG_START);
    const bySourceId = new Map<string, string[]>();
    for (const event of events) bySourceId.set(event.sourceEventId, [...(bySourceId.get(event.sourceEventId) ?? []), event.id]);
    for (const [webhookId, id] of acknowledged) expect(bySourceId.get(webhookId), webhookId).toEqual([id]);
    expect(events.length).toBe(acknowledged.size);
    expect(events.map((event) => event.id)).toEqual(events.map((event) => event.id).sort());
    expect(refusals.length).toBeGreaterThan(0);
    expect(refusals.every((status) => status === 503 || status === 0)).toBe(true);
  });
});
