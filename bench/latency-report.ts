import * as hdr from 'hdr-histogram-js';
import type { CollectResult } from './latency-load.js';
import type { SubscriberKind } from './latency-subscriber.js';
import type { LoopDelayReport } from './loop-delay.js';
import type { OpenLoopResult } from './open-loop.js';
import type { Pinning } from './proc-stats.js';
import { formatCount, formatRatio, formatTable } from './table.js';

/** What `latency` measured and how it prints it: HDR histograms of microseconds, shown in ms. */

export interface LatencySettings {
  rate: number;
  subscribers: number;
  seconds: number;
  warmup: number;
  store: 'sqlite' | 'redis' | 'memory';
  loaders: number;
  baseline: boolean;
  cpuProfileDir: string | undefined;
  gcTraceFile: string | undefined;
}

/** One server's run, as measured: schedule, publisher results, every subscriber's arrivals. */
export interface LatencyRun {
  name: 'relay' | 'bare';
  /** Scheduled send times (shared clock, ms); the first `warmupEvents` are not reported. */
  times: readonly number[];
  warmupEvents: number;
  published: OpenLoopResult;
  /** The id event `i`'s frames carry (the bare server sends captured relay frames: not its keys). */
  frameIds: readonly string[];
  /** One per load-generator process. */
  parts: CollectResult[];
  cpuSeconds: number | undefined;
  /** The publisher's and the load generators' CPU over the same window. */
  clientCpuSeconds: number | undefined;
  wallSeconds: number;
  loopDelay: LoopDelayReport | undefined;
}

type Histogram = hdr.Histogram;

function histogram(): Histogram {
  // Microseconds, 1 µs to 10 min, 3 significant digits.
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
}

function record(h: Histogram, ms: number): void {
  // The shared clock is two processes' reading of one clock: a frame can seem a hair early.
  h.recordValue(Math.max(1, Math.min(600_000_000, Math.round(ms * 1000))));
}

export interface LatencySummary {
  name: 'relay' | 'bare';
  push: Histogram;
  /** Push latency of the warm-up's frames: shown, never part of the measured window. */
  warmupPush: Histogram;
  byKind: Map<SubscriberKind, { subscribers: number; push: Histogram }>;
  /** Per Unix second of the scheduled send (measured window only), push and answer latency. */
  perSecond: Map<number, { push: Histogram; answer: Histogram }>;
  answer: Histogram;
  lag: Histogram;
  /** Event frames in the measured window: events × subscribers. */
  frames: number;
  cpuSeconds: number | undefined;
  clientCpuSeconds: number | undefined;
  wallSeconds: number;
  loopDelay: LoopDelayReport | undefined;
  problems: string[];
}

/** Checks every frame came, once, in log order, and builds the histograms of the measured window. */
export function summarize(run: LatencyRun): LatencySummary {
  const { times, warmupEvents, published } = run;
  const total = times.length;
  const indexOf = new Map(run.frameIds.map((id, i) => [id, i]));
  // The server's delivery order: its keys sort in it (log ids, publish sequence numbers).
  const keys = published.keys;
  const logOrder = Array.from(keys, (_, i) => i)
    .sort((a, b) => (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : 0))
    .map((i) => run.frameIds[i]!);
  const summary: LatencySummary = {
    name: run.name,
    push: histogram(),
    warmupPush: histogram(),
    byKind: new Map(),
    perSecond: new Map(),
    answer: histogram(),
    lag: histogram(),
    frames: 0,
    cpuSeconds: run.cpuSeconds,
    clientCpuSeconds: run.clientCpuSeconds,
    wallSeconds: run.wallSeconds,
    loopDelay: run.loopDelay,
    problems: [],
  };
  const second = (i: number) => {
    const s = Math.floor(times[i]! / 1000);
    let entry = summary.perSecond.get(s);
    if (entry === undefined) summary.perSecond.set(s, (entry = { push: histogram(), answer: histogram() }));
    return entry;
  };
  for (let i = warmupEvents; i < total; i++) {
    record(summary.answer, published.answeredAt[i]! - times[i]!);
    record(summary.lag, published.sentAt[i]! - times[i]!);
    record(second(i).answer, published.answeredAt[i]! - times[i]!);
  }
  let missed = 0;
  let misordered = 0;
  let ended = 0;
  for (const part of run.parts) {
    if (part.subscribers.length > 0 && part.order.some((key, k) => key !== logOrder[k])) summary.problems.push(`${run.name}: frames arrived in another order than the log's`);
    for (const subscriber of part.subscribers) {
      missed += Math.max(0, total - subscriber.arrivals.length);
      misordered += subscriber.misordered;
      if (subscriber.ended) ended++;
      let kind = summary.byKind.get(subscriber.kind);
      if (kind === undefined) summary.byKind.set(subscriber.kind, (kind = { subscribers: 0, push: histogram() }));
      kind.subscribers++;
      for (let k = 0; k < subscriber.arrivals.length; k++) {
        const i = indexOf.get(part.order[k]!);
        if (i === undefined) continue;
        const ms = subscriber.arrivals[k]! - times[i]!;
        if (i < warmupEvents) {
          record(summary.warmupPush, ms);
          continue;
        }
        record(summary.push, ms);
        record(kind.push, ms);
        record(second(i).push, ms);
        summary.frames++;
      }
    }
  }
  if (missed > 0) summary.problems.push(`${run.name}: ${formatCount(missed)} event frames never arrived`);
  if (misordered > 0) summary.problems.push(`${run.name}: ${formatCount(misordered)} frames out of log order, repeated or after a missed one`);
  if (ended > 0) summary.problems.push(`${run.name}: ${ended} streams ended during the run`);
  return summary;
}

function ms(h: Histogram, percentile: number): string {
  const value = percentile === 100 ? h.maxValue : h.getValueAtPercentile(percentile);
  return (value / 1000).toFixed(value < 10_000 ? 2 : 1);
}

const KIND_NAMES: Record<SubscriberKind, string> = {
  modern: 'events/stream 2026-07-28',
  legacy: 'events/stream 2025-11-25 session',
  feed: 'GET /feed',
};

const PERCENTILES = [
  { header: 'p50 ms', align: 'right' as const },
  { header: 'p99 ms', align: 'right' as const },
  { header: 'p99.9 ms', align: 'right' as const },
  { header: 'max ms', align: 'right' as const },
];

function percentiles(h: Histogram): string[] {
  return [ms(h, 50), ms(h, 99), ms(h, 99.9), ms(h, 100)];
}

/** Prints the report to stdout; returns how many problems it found. */
export function printLatencyReport(machine: string[], pinning: Pinning | undefined, settings: LatencySettings, summaries: LatencySummary[]): { problems: number } {
  const relay = summaries.find((s) => s.name === 'relay')!;
  const bare = summaries.find((s) => s.name === 'bare');
  const lines: string[] = ['## latency: push under a steady webhook rate', '', ...machine.map((m) => `- ${m}`)];
  const mix = [...relay.byKind].map(([kind, k]) => `${k.subscribers} ${KIND_NAMES[kind]}`).join(', ');
  lines.push(
    `- ${formatCount(settings.rate)} signed Stripe webhooks/s, open loop, for ${settings.seconds} s after a ${settings.warmup} s warm-up; ${formatCount(settings.subscribers)} subscribers (${mix}); store ${settings.store}${settings.store === 'sqlite' ? ' (synchronous=full)' : ''}, reactions off`,
    pinning ? `- server on CPU ${pinning.server}; publisher and ${settings.loaders} load generators on CPU ${pinning.client}` : '- not pinned: servers and load generators share the cores',
    '',
    '### Push: scheduled send → event frame at the subscriber',
    '',
  );
  const row = (name: string, subscribers: number, h: Histogram) => [name, formatCount(subscribers), formatCount(h.totalCount), ...percentiles(h), bare ? formatRatio(h.getValueAtPercentile(99) / bare.push.getValueAtPercentile(99)) : ''];
  const pushRows = [row('relay, all', settings.subscribers, relay.push), ...[...relay.byKind].map(([kind, k]) => row(`relay, ${KIND_NAMES[kind]}`, k.subscribers, k.push))];
  if (bare) pushRows.push(row('bare SSE broadcast (baseline)', settings.subscribers, bare.push));
  if (settings.warmup > 0) {
    pushRows.push(row(`relay, the ${settings.warmup} s warm-up (not measured)`, settings.subscribers, relay.warmupPush));
    if (bare) pushRows.push(row(`bare, the ${settings.warmup} s warm-up (not measured)`, settings.subscribers, bare.warmupPush));
  }
  lines.push(formatTable([{ header: 'server' }, { header: 'subscribers', align: 'right' }, { header: 'frames', align: 'right' }, ...PERCENTILES, { header: 'p99 vs bare', align: 'right' }], pushRows), '');

  lines.push('### Webhook answer (scheduled send → whole 2xx) and publisher lag (actual − scheduled send)', '');
  const answerRows = [['relay: POST /webhooks/stripe answer', ...percentiles(relay.answer)], ['relay run: publisher lag', ...percentiles(relay.lag)]];
  if (bare) answerRows.push(['bare: POST /publish answer', ...percentiles(bare.answer)], ['bare run: publisher lag', ...percentiles(bare.lag)]);
  lines.push(formatTable([{ header: 'what' }, ...PERCENTILES], answerRows), '');

  lines.push('### Server CPU over the measured window (first scheduled send → last frame in)', '');
  const perFrame = (s: LatencySummary) => (s.cpuSeconds === undefined || s.frames === 0 ? undefined : (s.cpuSeconds * 1e6) / s.frames);
  const cpuRow = (s: LatencySummary, name: string) => {
    const us = perFrame(s);
    const bareUs = bare ? perFrame(bare) : undefined;
    const delay = s.loopDelay?.whole;
    return [
      name,
      s.cpuSeconds === undefined ? 'n/a' : `${((100 * s.cpuSeconds) / s.wallSeconds).toFixed(0)} %`,
      formatCount(s.frames),
      us === undefined ? 'n/a' : us.toFixed(2),
      us !== undefined && bareUs !== undefined && s !== bare ? formatRatio(us / bareUs) : '',
      s.clientCpuSeconds === undefined ? 'n/a' : `${((100 * s.clientCpuSeconds) / s.wallSeconds).toFixed(0)} %`,
      delay ? `${delay.p50.toFixed(1)} / ${delay.p99.toFixed(1)} / ${delay.p999.toFixed(1)} / ${delay.max.toFixed(1)}` : '',
    ];
  };
  const cpuRows = [cpuRow(relay, 'relay')];
  if (bare) cpuRows.push(cpuRow(bare, 'bare SSE broadcast (baseline)'));
  lines.push(
    formatTable(
      [{ header: 'server' }, { header: 'CPU of one core', align: 'right' }, { header: 'frames', align: 'right' }, { header: 'CPU µs/frame', align: 'right' }, { header: 'vs bare', align: 'right' }, { header: 'client CPU', align: 'right' }, { header: 'loop delay p50/p99/p99.9/max ms', align: 'right' }],
      cpuRows,
    ),
    '',
  );

  lines.push('### Per second of scheduled sends (bursts)', '');
  const loopMax = new Map((relay.loopDelay?.seconds ?? []).map((r) => [r.second - 1, r.max]));
  const bareSeconds = bare ? [...bare.perSecond.values()] : [];
  const secondRows = [...relay.perSecond].map(([s, h], n) => [
    String(n + 1),
    formatCount(h.answer.totalCount),
    ms(h.push, 99),
    ms(h.push, 100),
    ms(h.answer, 99),
    loopMax.has(s) ? loopMax.get(s)!.toFixed(1) : '',
    bareSeconds[n] ? ms(bareSeconds[n].push, 99) : '',
  ]);
  lines.push(
    formatTable(
      [
        { header: 's', align: 'right' },
        { header: 'webhooks', align: 'right' },
        { header: 'relay push p99 ms', align: 'right' },
        { header: 'relay push max ms', align: 'right' },
        { header: 'relay answer p99 ms', align: 'right' },
        { header: 'relay loop delay max ms', align: 'right' },
        { header: 'bare push p99 ms', align: 'right' },
      ],
      secondRows,
    ),
    '',
  );
  const problems = summaries.flatMap((s) => s.problems);
  lines.push(problems.length === 0 ? 'Checks: every subscriber got every event frame once, in log order.' : `Problems:\n${problems.map((p) => `- ${p}`).join('\n')}`);
  console.log(lines.join('\n'));
  return { problems: problems.length };
}
