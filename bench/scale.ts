import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { LOG_START } from '../src/events/ulid.js';
import { DeliveryPool, INGEST_SECRET } from './ingest-deliveries.js';
import { buildRelay, startNodeFlags } from './ingest-runner.js';
import { describeMachine } from './machine.js';
import { pinLoadGenerator, type Pinning } from './proc-stats.js';
import { killRedisServers, type RedisProcess, redisServerVersion, startRedis } from './redis-process.js';
import { type CommitRow, commitApiKeys, createState, measureCommits, PRINCIPALS } from './scale-commit.js';
import { captureHeads, framePublisher, type FanoutServer, measureFanout, webhookPublisher } from './scale-fanout.js';
import { LoadGenerators } from './scale-loaders.js';
import { measureIdleMemory, type MemoryRow } from './scale-memory.js';
import { measureReplay, type ReplayTarget } from './scale-replay.js';
import { printScaleReport, type ScaleResults } from './scale-report.js';
import { parseSettings, type ScaleSettings } from './scale-settings.js';
import { preloadStore, storeRefusal } from './scale-stores.js';
import { measureStoreAppends, measureStoreIngest, type StoreUnderTest } from './scale-throughput.js';
import { killServers, type ServerProcess, startServer } from './server-process.js';
import { formatCount } from './table.js';

/**
 * `npm run bench -- scale`: push fan-out to many subscribers, replay of a long backlog,
 * memory per idle subscriber, and ingest/append with Redis beside SQLite, each against a
 * baseline measured in the same run (conventions rule 7). See bench/README.md.
 */

/**
 * The memory relay's backlog: it can only be filled over HTTP, a webhook at a time, which
 * for 100,000 would take minutes; replay costs about the same per event at any length.
 */
const MEMORY_REPLAY_EVENTS = 10_000;
/** Distinct webhook deliveries per second of ingest the pool is sized for (as `ingest` sizes its own). */
const INGEST_POOL_RATE = 15_000;

/** Node arguments for `script`; with `gc`, a full GC on SIGUSR2 (for the memory rows). */
function nodeArgs(script: string[], gc: boolean): string[] {
  return gc ? ['--expose-gc', '--import', 'tsx', '--import', './bench/gc-on-signal.ts', ...script] : ['--import', 'tsx', ...script];
}

/** The relay as `npm start` runs it: its node flags and the compiled JavaScript. */
const RELAY_SCRIPT = () => [...startNodeFlags(), 'dist/src/cli.js', 'serve'];

export async function run(args: string[]): Promise<void> {
  const settings = parseSettings(args);
  buildRelay();
  const dir = mkdtempSync(join(os.tmpdir(), 'mcp-event-relay-bench-scale-'));
  let loaders: LoadGenerators | undefined;
  // Also on Ctrl-C and on a crash: no child process or temporary file outlives the run.
  const cleanUp = () => {
    loaders?.kill();
    killServers();
    killRedisServers();
    rmSync(dir, { recursive: true, force: true });
  };
  const onSigint = () => {
    cleanUp();
    process.exit(130);
  };
  process.once('SIGINT', onSigint);
  process.once('exit', cleanUp);

  const machine = describeMachine();
  const pinning = pinLoadGenerator();
  let redis: RedisProcess | undefined;
  let results: ScaleResults;
  try {
    const redisVersion = redisServerVersion();
    // Asks the relay's own config whether it takes a Redis store at all (no connection is made).
    const redisRefusal = redisVersion === undefined ? 'no redis-server on PATH' : storeRefusal('redis://127.0.0.1:6379');
    if (redisRefusal === undefined) redis = await startRedis(dir, pinning?.server);
    loaders = new LoadGenerators(settings.loaders);
    const all = settings.only === undefined;
    const replays = all || settings.only === 'replay';
    const commits = all || settings.only === 'commit';
    const pool = new DeliveryPool(
      Math.max(
        settings.warmupEvents + settings.events,
        replays ? MEMORY_REPLAY_EVENTS : 0,
        all ? INGEST_POOL_RATE * (settings.ingestSeconds + 1) : 0,
        commits ? settings.warmupEvents + settings.commitWebhooks : 0,
      ),
    );
    console.error(`building ${formatCount(pool.size)} distinct deliveries…`);
    await pool.build();
    await pool.sign(Date.now());

    // One file or Redis database per part, so no part reads what another wrote.
    const durable = (part: string, db: number): StoreUnderTest[] => [
      { name: 'sqlite full', store: `sqlite:${join(dir, `${part}.db`)}` },
      ...(redis ? [{ name: 'redis', store: `${redis.url}/${db}` }] : []),
    ];
    const context: Context = { dir, pinning, loaders, pool, settings };
    const fanout = all ? await fanoutPart(context) : [];
    const replay = replays ? await replayPart(context, durable('replay', 0)) : [];
    const memory = all ? await memoryPart(context) : [];
    const ingest = all ? await measureStoreIngest(durable('ingest', 1), pool, settings.ingestSeconds, pinning?.server) : [];
    const append = all ? await measureStoreAppends(durable('append', 2), dir, settings.appendSeconds, settings.rounds) : [];
    const commit = commits ? await commitPart(context) : [];
    results = { fanout, replay, memory, ingest, append, commit, redisRefusal, redisVersion };
  } finally {
    loaders?.stop();
    await redis?.stop();
    cleanUp();
    process.off('SIGINT', onSigint);
    process.off('exit', cleanUp);
  }
  printScaleReport(machine, pinning, settings, results);
}

interface Context {
  dir: string;
  pinning: Pinning | undefined;
  loaders: LoadGenerators;
  pool: DeliveryPool;
  settings: ScaleSettings;
}

function relayEnv(store: string): Record<string, string> {
  return {
    RELAY_STORE: store,
    // Per-webhook info lines would measure the logger.
    RELAY_LOG_LEVEL: 'warn',
    // Fan-out and commits of the posted events alone: the reactions would append events of their own.
    RELAY_REACTIONS: 'off',
    STRIPE_WEBHOOK_SECRET: INGEST_SECRET,
    RELAY_MAX_STREAMS_PER_PRINCIPAL: '10000',
    RELAY_HEARTBEAT: '30s',
  };
}

function startRelay(context: Context, name: string, store: string, gc = false, env: Record<string, string> = {}): Promise<ServerProcess> {
  console.error(`${name}: starting`);
  return startServer({ name, args: nodeArgs(RELAY_SCRIPT(), gc), env: { ...relayEnv(store), ...env }, cpu: context.pinning?.server });
}

function startBare(context: Context, gc = false): Promise<ServerProcess> {
  return startServer({ name: 'bare SSE', args: nodeArgs(['bench/bare-sse-server.ts'], gc), env: {}, cpu: context.pinning?.server });
}

async function setBareFrames(url: string, heads: string[], replay: number): Promise<void> {
  const response = await fetch(`${url}/frames`, { method: 'POST', body: JSON.stringify({ heads, replay }) });
  if (!response.ok) throw new Error(`bare SSE server refused its frames: ${response.status}`);
}

async function fanoutPart(context: Context) {
  const { loaders, pool, settings } = context;
  const relay = await startRelay(context, 'relay (sqlite full)', `sqlite:${join(context.dir, 'fanout.db')}`);
  const bare = await startBare(context);
  try {
    let heads: string[] = [];
    const targets: FanoutServer[] = [
      { name: 'relay (sqlite full)', kind: 'relay', server: relay, publish: webhookPublisher(relay.url, pool) },
      { name: 'bare SSE broadcast', kind: 'bare', server: bare, publish: framePublisher(bare.url, () => heads) },
    ];
    for (const target of targets) {
      console.error(`fan-out: opening ${formatCount(settings.subscribers)} subscriptions to ${target.name}`);
      await loaders.open(target.server.url, settings.subscribers);
    }
    const rows = await measureFanout(targets, loaders, settings, async (target) => {
      if (target.kind === 'relay') heads = await captureHeads(relay.url, LOG_START, settings.warmupEvents);
    });
    for (const target of targets) await loaders.close(target.server.url);
    return rows;
  } finally {
    await Promise.all([relay.stop(), bare.stop()]);
  }
}

async function replayPart(context: Context, stores: readonly StoreUnderTest[]) {
  const { loaders, settings } = context;
  const events = settings.replayEvents;
  const servers: ServerProcess[] = [];
  try {
    const targets: ReplayTarget[] = [];
    for (const { name, store } of stores) {
      console.error(`replay: preloading ${formatCount(events)} events into ${name}`);
      await preloadStore(store, events);
      const relay = await startRelay(context, `relay (${name})`, store);
      servers.push(relay);
      targets.push({ name: `relay (${name})`, kind: 'relay', url: relay.url, pid: relay.pid, cursor: LOG_START, missed: events });
    }
    const memory = await startRelay(context, 'relay (memory)', 'memory');
    servers.push(memory);
    const memoryEvents = Math.min(events, MEMORY_REPLAY_EVENTS);
    console.error(`replay: posting ${formatCount(memoryEvents)} webhooks to relay (memory)`);
    await postAll(webhookPublisher(memory.url, context.pool), memoryEvents);
    targets.push({ name: 'relay (memory)', kind: 'relay', url: memory.url, pid: memory.pid, cursor: LOG_START, missed: memoryEvents });
    const bare = await startBare(context);
    servers.push(bare);
    await setBareFrames(bare.url, await captureHeads(targets[0]!.url, LOG_START, 1000), events);
    targets.unshift({ name: 'bare SSE, same frames', kind: 'bare', url: bare.url, pid: bare.pid, cursor: LOG_START, missed: events });
    return await measureReplay(targets, loaders, settings.replayPasses);
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

/** Publishes events 0…count−1 with 32 in flight. */
async function postAll(publish: (i: number) => Promise<string>, count: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await publish(next++);
  };
  await Promise.all(Array.from({ length: 32 }, worker));
}

async function memoryPart(context: Context): Promise<MemoryRow[]> {
  const rows: MemoryRow[] = [];
  const bare = await startBare(context, true);
  try {
    rows.push(...(await measureIdleMemory('bare SSE broadcast', 'bare', bare, context.loaders, context.settings.idle)));
  } finally {
    await bare.stop();
  }
  const relay = await startRelay(context, 'relay (sqlite full)', `sqlite:${join(context.dir, 'memory.db')}`, true);
  try {
    rows.push(...(await measureIdleMemory('relay (sqlite full)', 'relay', relay, context.loaders, context.settings.idle)));
  } finally {
    await relay.stop();
  }
  return rows;
}

/**
 * Two relays with the same principals: one given the state (group names, idle sessions, a
 * tenth subscribed), one without; webhook latency on both, interleaved.
 */
async function commitPart(context: Context): Promise<CommitRow[]> {
  const { settings } = context;
  const keys = { RELAY_API_KEYS: commitApiKeys() };
  const bareName = 'relay (sqlite full), nothing held';
  const stateName = `relay (sqlite full), ${formatCount(settings.commitGroups)} groups + ${formatCount(settings.commitSessions)} sessions`;
  const bare = await startRelay(context, bareName, `sqlite:${join(context.dir, 'commit-bare.db')}`, false, keys);
  const state = await startRelay(context, stateName, `sqlite:${join(context.dir, 'commit-state.db')}`, false, keys);
  try {
    console.error(`commit: creating ${formatCount(settings.commitGroups)} group names and ${formatCount(settings.commitSessions)} sessions over ${PRINCIPALS} principals`);
    await createState(state.url, { groups: settings.commitGroups, sessions: settings.commitSessions });
    return await measureCommits(
      [
        { name: bareName, kind: 'bare', server: bare },
        { name: stateName, kind: 'state', server: state },
      ],
      context.pool,
      { groups: settings.commitGroups, sessions: settings.commitSessions, events: settings.commitWebhooks, warmupEvents: settings.warmupEvents, rounds: settings.rounds },
    );
  } finally {
    await Promise.all([bare.stop(), state.stop()]);
  }
}
