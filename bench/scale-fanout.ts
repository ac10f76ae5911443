import { createParser } from 'eventsource-parser';
import type { DeliveryPool } from './ingest-deliveries.js';
import { cpuSeconds } from './proc-stats.js';
import type { LoadGenerators } from './scale-loaders.js';
import type { ServerProcess } from './server-process.js';
import { MODERN_VERSION, sharedNow, subscriptionBody } from './sse-subscription.js';
import { formatCount } from './table.js';

/**
 * The fan-out part of `scale`: N live `events/stream` subscribers on the relay and N on the
 * bare SSE server, held by the load generators; events published one after another with at
 * most `window` events not yet received by every subscriber, in interleaved slices.
 */

const FRAME_META = '"_meta":';
/** A stalled slice fails after this long without every subscriber having every event. */
const STALL_MS = 60_000;

export interface FanoutSettings {
  subscribers: number;
  /** Timed events per server, split into `rounds` slices. */
  events: number;
  warmupEvents: number;
  rounds: number;
  /** Events published but not yet received by every subscriber, at most. */
  window: number;
}

export interface FanoutServer {
  name: string;
  kind: 'bare' | 'relay';
  server: ServerProcess;
  /** Publishes event `i`: resolves with a key that sorts in delivery order, once the server answered 200. */
  publish(i: number): Promise<string>;
}

export interface FanoutRow {
  name: string;
  kind: 'bare' | 'relay';
  events: number;
  delivered: number;
  bytes: number;
  /** Sum over the slices of first publish → last frame received. */
  seconds: number;
  latencies: Float64Array;
  serverCpuSeconds: number | undefined;
  clientCpuSeconds: number | undefined;
  problems: string[];
}

/** A relay publisher: POSTs the pool's signed Stripe deliveries, in turn, to `/webhooks/stripe`. */
export function webhookPublisher(url: string, pool: DeliveryPool): (i: number) => Promise<string> {
  return async (i) => {
    const { 'Content-Length': _length, ...headers } = pool.delivery(i).headers;
    const response = await fetch(`${url}/webhooks/stripe`, { method: 'POST', headers, body: pool.delivery(i).body });
    const body = (await response.json()) as { id?: string; duplicate?: boolean };
    if (response.status !== 200 || body.duplicate !== false || typeof body.id !== 'string') {
      throw new Error(`webhook ${i} answered ${response.status} ${JSON.stringify(body)}`);
    }
    return body.id;
  };
}

/** A bare publisher: POSTs captured frame heads (known once the relay has warmed up), in turn, to `/publish`. */
export function framePublisher(url: string, heads: () => readonly string[]): (i: number) => Promise<string> {
  return async (i) => {
    const captured = heads();
    const response = await fetch(`${url}/publish`, { method: 'POST', body: captured[i % captured.length]! });
    const body = (await response.json()) as { seq: string };
    if (response.status !== 200) throw new Error(`publish ${i} answered ${response.status}`);
    return body.seq;
  };
}

/**
 * The relay's event frames for the events after `cursor`, read back by replay and cut before
 * their `_meta` (the only per-subscriber part): what the bare server writes, byte for byte.
 */
export async function captureHeads(url: string, cursor: string, count: number): Promise<string[]> {
  const abort = new AbortController();
  const response = await fetch(`${url}/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': MODERN_VERSION, 'mcp-method': 'events/stream' },
    body: subscriptionBody(0, cursor),
    signal: abort.signal,
  });
  const heads: string[] = [];
  const parser = createParser({
    onEvent: (frame) => {
      if (frame.id === undefined) return;
      const text = `id: ${frame.id}\nevent: ${frame.event ?? 'message'}\ndata: ${frame.data}\n\n`;
      heads.push(text.slice(0, text.lastIndexOf(FRAME_META) + FRAME_META.length));
    },
  });
  const decoder = new TextDecoder();
  try {
    for await (const chunk of response.body!) {
      parser.feed(decoder.decode(chunk, { stream: true }));
      if (heads.length >= count) break;
    }
  } finally {
    abort.abort();
  }
  if (heads.length < count) throw new Error(`captured ${heads.length} of ${count} relay frames`);
  return heads.slice(0, count);
}

interface Usage {
  server: number | undefined;
  client: number | undefined;
}

function clientCpu(loaders: LoadGenerators): number | undefined {
  const own = process.cpuUsage();
  const children = loaders.pids.map(cpuSeconds);
  if (children.some((s) => s === undefined)) return undefined;
  return (own.user + own.system) / 1e6 + children.reduce((a, b) => a! + b!, 0)!;
}

/** One slice: `events` published from `first` on; returns the subscribers' view of it. */
async function slice(target: FanoutServer, loaders: LoadGenerators, first: number, events: number, window: number, usage?: Usage) {
  const url = target.server.url;
  await loaders.phase(url, events);
  const serverBefore = cpuSeconds(target.server.pid);
  const clientBefore = clientCpu(loaders);
  const commits: { key: string; at: number }[] = [];
  const start = sharedNow();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < events; i++) {
    const deadline = Date.now() + STALL_MS;
    while (i - loaders.received(url) >= window) {
      if (Date.now() > deadline) throw new Error(`${target.name}: no progress for ${STALL_MS} ms at event ${i}`);
      await loaders.progress(STALL_MS);
    }
    inFlight.push(target.publish(first + i).then((key) => void commits.push({ key, at: sharedNow() })));
  }
  await Promise.all(inFlight);
  await loaders.waitFor(url, events, STALL_MS);
  const serverAfter = cpuSeconds(target.server.pid);
  const clientAfter = clientCpu(loaders);
  if (usage) {
    usage.server = usage.server !== undefined && serverBefore !== undefined && serverAfter !== undefined ? usage.server + serverAfter - serverBefore : undefined;
    usage.client = usage.client !== undefined && clientBefore !== undefined && clientAfter !== undefined ? usage.client + clientAfter - clientBefore : undefined;
  }
  // Log order is commit order: the k-th frame every subscriber gets is the k-th key.
  commits.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const result = await loaders.collect(url, Float64Array.from(commits, (c) => c.at));
  return { ...result, seconds: (result.lastAt - start) / 1000 };
}

/**
 * Warms every server up (the relay first: its warm-up frames become the bare server's
 * frames), then measures them in `rounds` interleaved slices of `events / rounds`.
 * `afterWarmup` runs between the relay's warm-up and the others'.
 */
export async function measureFanout(
  targets: readonly FanoutServer[],
  loaders: LoadGenerators,
  settings: FanoutSettings,
  afterWarmup: (target: FanoutServer) => Promise<void>,
): Promise<FanoutRow[]> {
  const published = targets.map(() => 0);
  for (const [i, target] of targets.entries()) {
    console.error(`fan-out: ${target.name}: ${formatCount(settings.subscribers)} subscribers, warm-up ${settings.warmupEvents} events`);
    await slice(target, loaders, 0, settings.warmupEvents, settings.window);
    published[i] = settings.warmupEvents;
    await afterWarmup(target);
  }
  const rows: FanoutRow[] = targets.map((t) => ({
    name: t.name,
    kind: t.kind,
    events: 0,
    delivered: 0,
    bytes: 0,
    seconds: 0,
    latencies: new Float64Array(0),
    serverCpuSeconds: 0,
    clientCpuSeconds: 0,
    problems: [],
  }));
  const perSlice = Math.ceil(settings.events / settings.rounds);
  for (let round = 0; round < settings.rounds; round++) {
    for (let k = 0; k < targets.length; k++) {
      const i = (k + round) % targets.length;
      const target = targets[i]!;
      const row = rows[i]!;
      const usage: Usage = { server: row.serverCpuSeconds, client: row.clientCpuSeconds };
      const result = await slice(target, loaders, published[i]!, perSlice, settings.window, usage);
      published[i]! += perSlice;
      row.serverCpuSeconds = usage.server;
      row.clientCpuSeconds = usage.client;
      row.events += perSlice;
      row.delivered += result.delivered;
      row.bytes += result.bytes;
      row.seconds += result.seconds;
      const latencies = new Float64Array(row.latencies.length + result.latencies.length);
      latencies.set(row.latencies);
      latencies.set(result.latencies, row.latencies.length);
      row.latencies = latencies;
      if (result.lost > 0) row.problems.push(`${result.lost} streams ended during round ${round + 1}`);
      if (result.delivered !== perSlice * settings.subscribers) {
        row.problems.push(`round ${round + 1}: ${formatCount(result.delivered)} frames for ${formatCount(perSlice * settings.subscribers)} expected`);
      }
      console.error(`fan-out round ${round + 1}/${settings.rounds}: ${target.name} ${formatCount(result.delivered / result.seconds)} frames/s`);
    }
  }
  return rows;
}
