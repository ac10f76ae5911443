import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import ts from 'typescript';
import { LOG_START } from '../src/events/ulid.js';
import { DeliveryPool, INGEST_SECRET } from './ingest-deliveries.js';
import { buildRelay, startNodeFlags } from './ingest-runner.js';
import { type LatencyRun, printLatencyReport, type LatencySettings, summarize } from './latency-report.js';
import { LatencyLoaders } from './latency-loaders.js';
import type { SubscriberKind } from './latency-subscriber.js';
import type { LoopDelayReport } from './loop-delay.js';
import { describeMachine } from './machine.js';
import { openLoop, post, schedule, type Send, webhookSend } from './open-loop.js';
import { cpuSeconds, pinLoadGenerator, type Pinning } from './proc-stats.js';
import { type RedisProcess, startRedis } from './redis-process.js';
import { captureHeads } from './scale-fanout.js';
import { type ServerProcess, startServer } from './server-process.js';
import { sharedNow } from './sse-subscription.js';
import { formatCount } from './table.js';
import { inTempDir } from './temp-run.js';

/**
 * `npm run bench -- latency`: push latency under a steady webhook rate. An open-loop publisher
 * posts signed Stripe webhooks to the relay at `--rate` per second; `--subscribers` live
 * subscribers in load-generator processes (2026-07-28 `events/stream`, a 2025-11-25 session's
 * `events/stream` and `GET /feed`, dealt in turn) note when each event frame arrives. Latency
 * runs from each webhook's scheduled send time to each frame (shared clock, HDR histograms),
 * so a stall counts for every event it delayed. The baseline: the bare SSE broadcast server
 * (`bare-sse-server.ts`) fed the relay's own frames by the same publisher, read by the same
 * number of subscribers. See bench/README.md.
 */

const USAGE = `usage: latency [--rate <webhooks/s>=1000] [--subscribers <n>=100] [--seconds <s>=20] [--warmup <s>=10]
               [--store sqlite|redis|memory] [--loaders <n>=2] [--no-baseline]
               [--cpu-prof <dir>] [--trace-gc <file>]`;
const KINDS: readonly SubscriberKind[] = ['modern', 'legacy', 'feed'];
/** How long the last frames may take after the last webhook is answered before they count as missed. */
const DRAIN_MS = 30_000;
/** The schedule starts this long after it is made: every subscriber is live by then. */
const LEAD_MS = 200;

function parseSettings(args: string[]): LatencySettings | undefined {
  const { values } = parseArgs({
    args,
    options: {
      rate: { type: 'string', default: '1000' },
      subscribers: { type: 'string', default: '100' },
      seconds: { type: 'string', default: '20' },
      warmup: { type: 'string', default: '10' },
      store: { type: 'string', default: 'sqlite' },
      loaders: { type: 'string', default: '2' },
      'no-baseline': { type: 'boolean', default: false },
      'cpu-prof': { type: 'string' },
      'trace-gc': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return undefined;
  const positive = (name: string, text: string, integer = true): number => {
    const n = Number(text);
    if (!(n > 0) || (integer && !Number.isInteger(n))) throw new Error(`--${name} must be a positive ${integer ? 'integer' : 'number'}, not ${text}\n${USAGE}`);
    return n;
  };
  const nonNegative = (name: string, text: string): number => (Number(text) === 0 ? 0 : positive(name, text, false));
  const store = values.store;
  if (store !== 'sqlite' && store !== 'redis' && store !== 'memory') throw new Error(`--store must be sqlite, redis or memory, not ${store}\n${USAGE}`);
  return {
    rate: positive('rate', values.rate, false),
    subscribers: positive('subscribers', values.subscribers),
    seconds: positive('seconds', values.seconds),
    warmup: nonNegative('warmup', values.warmup),
    store,
    loaders: positive('loaders', values.loaders),
    baseline: !values['no-baseline'],
    cpuProfileDir: values['cpu-prof'],
    gcTraceFile: values['trace-gc'],
  };
}

export async function run(args: string[]): Promise<void> {
  const settings = parseSettings(args);
  if (settings === undefined) {
    console.log(USAGE);
    return;
  }
  const machine = describeMachine();
  const pinning = pinLoadGenerator();
  buildRelay();
  const runs = await inTempDir('latency', async (dir) => {
    const loaders = new LatencyLoaders(settings.loaders);
    let redis: RedisProcess | undefined;
    try {
      if (settings.store === 'redis') redis = await startRedis(dir, pinning?.server);
      const events = Math.round(settings.rate * (settings.warmup + settings.seconds));
      console.error(`building ${formatCount(events)} signed webhooks…`);
      const pool = new DeliveryPool(events);
      await pool.build();
      const store = settings.store === 'sqlite' ? `sqlite:${join(dir, 'relay.db')}` : settings.store === 'redis' ? `${redis!.url}/0` : 'memory';
      const relay = await startRelayUnderTest(settings, store, dir, pinning);
      const out: LatencyRun[] = [];
      let heads: string[];
      try {
        const kinds = Array.from({ length: settings.subscribers }, (_, i) => KINDS[i % KINDS.length]!);
        await loaders.open(relay.url, undefined, kinds, events);
        await pool.sign(Date.now());
        out.push(await measure('relay', relay, loaders, settings, webhookSend(relay.url, pool), (keys) => keys, relay.loopDelayFile));
        await loaders.close(relay.url);
        // One frame per event of the bare run, so each of its frames names one scheduled send.
        heads = settings.baseline ? await captureHeads(relay.url, LOG_START, events) : [];
      } finally {
        await relay.stop();
      }
      if (settings.baseline) {
        const bare = await startServer({ name: 'bare SSE', args: ['--import', 'tsx', 'bench/bare-sse-server.ts'], env: {}, cpu: pinning?.server });
        try {
          await loaders.open(bare.url, undefined, allOf('modern', settings.subscribers), events);
          out.push(await measure('bare', bare, loaders, settings, frameSend(bare.url, heads), () => heads.map(frameId), undefined));
          await loaders.close(bare.url);
        } finally {
          await bare.stop();
        }
      }
      return out;
    } finally {
      loaders.stop();
      await redis?.stop();
    }
  });
  const report = printLatencyReport(machine, pinning, settings, runs.map(summarize));
  if (report.problems > 0) process.exitCode = 1;
}

function allOf(kind: SubscriberKind, count: number): SubscriberKind[] {
  return Array.from({ length: count }, () => kind);
}

interface RelayUnderTest extends ServerProcess {
  loopDelayFile: string;
}

/**
 * `loop-delay.ts` as plain JavaScript in `dir`: the relay under test runs compiled code, as
 * `npm start` does, and a TypeScript loader in it would add its own threads, heap and hooks.
 */
function compileLoopDelayMonitor(dir: string): string {
  const source = readFileSync(fileURLToPath(new URL('./loop-delay.ts', import.meta.url)), 'utf8');
  const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
  const file = join(dir, 'loop-delay.mjs');
  writeFileSync(file, outputText);
  return file;
}

/** The relay as `npm start` runs it, plus the event-loop monitor (and a CPU profile or GC trace when asked). */
async function startRelayUnderTest(settings: LatencySettings, store: string, dir: string, pinning: Pinning | undefined): Promise<RelayUnderTest> {
  const loopDelayFile = join(dir, 'loop-delay.json');
  const monitor = compileLoopDelayMonitor(dir);
  const diagnostics = [
    ...(settings.cpuProfileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${settings.cpuProfileDir}`]),
    ...(settings.gcTraceFile === undefined ? [] : ['--trace-gc']),
  ];
  console.error(`relay (${settings.store}): starting`);
  const server = await startServer({
    name: 'relay',
    args: [...startNodeFlags(), ...diagnostics, '--import', pathToFileURL(monitor).href, 'dist/src/cli.js', 'serve'],
    env: {
      RELAY_STORE: store,
      RELAY_SQLITE_SYNCHRONOUS: 'full',
      // Per-webhook info lines would measure the logger.
      RELAY_LOG_LEVEL: 'warn',
      // The posted events alone: the reactions would append events of their own.
      RELAY_REACTIONS: 'off',
      STRIPE_WEBHOOK_SECRET: INGEST_SECRET,
      RELAY_MAX_STREAMS_PER_PRINCIPAL: '10000',
      RELAY_MAX_SESSIONS_PER_PRINCIPAL: '10000',
      RELAY_MAX_FEEDS_PER_PRINCIPAL: '10000',
      RELAY_MAX_FEEDS: '100000',
      RELAY_HEARTBEAT: '30s',
      BENCH_LOOP_DELAY_FILE: loopDelayFile,
    },
    cpu: pinning?.server,
    ...(settings.gcTraceFile === undefined ? {} : { outputFile: settings.gcTraceFile }),
  });
  return { ...server, loopDelayFile };
}

/** The bare server's side: a captured frame head to `/publish`; the key is the publish sequence. */
function frameSend(url: string, heads: readonly string[]): Send {
  return async (i, agent) => {
    const answer = await post(`${url}/publish`, {}, heads[i]!, agent);
    if (answer.status !== 200) throw new Error(`publish ${i} answered ${answer.status}`);
    return (JSON.parse(answer.body) as { seq: string }).seq;
  };
}

/** CPU seconds of the client side: this process (the publisher) and the load generators. */
function clientCpu(loaders: LatencyLoaders): number | undefined {
  const own = process.cpuUsage();
  const children = loaders.pids.map(cpuSeconds);
  if (children.some((s) => s === undefined)) return undefined;
  return (own.user + own.system) / 1e6 + children.reduce((a, b) => a! + b!, 0)!;
}

/** The id of a captured frame head (`id: <ULID>\n…`). */
function frameId(head: string): string {
  return head.slice('id: '.length, head.indexOf('\n'));
}

/** Asks the relay's loop-delay monitor for its report (the second SIGUSR2) and reads it. */
async function loopDelay(pid: number, file: string): Promise<LoopDelayReport | undefined> {
  process.kill(pid, 'SIGUSR2');
  for (let tries = 0; tries < 100 && !existsSync(file); tries++) await sleep(20);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as LoopDelayReport) : undefined;
}

/**
 * One run against one server: the open-loop schedule (warm-up, then the measured seconds),
 * every subscriber's frames, the server's CPU over the measured window (from its first
 * scheduled send until every frame is in), and the relay's event-loop delay.
 */
async function measure(
  name: 'relay' | 'bare',
  server: ServerProcess,
  loaders: LatencyLoaders,
  settings: LatencySettings,
  send: Send,
  frameIds: (keys: string[]) => string[],
  loopDelayFile: string | undefined,
): Promise<LatencyRun> {
  const total = Math.round(settings.rate * (settings.warmup + settings.seconds));
  const warmupEvents = Math.round(settings.rate * settings.warmup);
  console.error(`${name}: ${formatCount(total)} webhooks at ${formatCount(settings.rate)}/s (${settings.warmup} s warm-up) to ${formatCount(settings.subscribers)} subscribers`);
  const times = schedule(total, settings.rate, LEAD_MS);
  let cpuBefore: number | undefined;
  let clientBefore: number | undefined;
  const windowStart = setTimeout(() => {
    cpuBefore = cpuSeconds(server.pid);
    clientBefore = clientCpu(loaders);
    if (loopDelayFile !== undefined) process.kill(server.pid, 'SIGUSR2');
  }, times[warmupEvents]! - sharedNow());
  const published = await openLoop(times, send);
  clearTimeout(windowStart);
  const deadline = Date.now() + DRAIN_MS;
  let received = await loaders.received(server.url);
  while (received < total && Date.now() < deadline) {
    await sleep(50);
    received = await loaders.received(server.url);
  }
  const cpuAfter = cpuSeconds(server.pid);
  const clientAfter = clientCpu(loaders);
  const end = sharedNow();
  const delay = loopDelayFile === undefined ? undefined : await loopDelay(server.pid, loopDelayFile);
  return {
    name,
    times,
    warmupEvents,
    published,
    frameIds: frameIds(published.keys),
    parts: await loaders.collect(server.url),
    cpuSeconds: cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore,
    clientCpuSeconds: clientBefore === undefined || clientAfter === undefined ? undefined : clientAfter - clientBefore,
    wallSeconds: (end - times[warmupEvents]!) / 1000,
    loopDelay: delay,
  };
}
