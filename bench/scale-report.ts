import os from 'node:os';
import type { Pinning } from './proc-stats.js';
import type { ScaleSettings } from './scale-settings.js';
import { type CommitRow, IN_FLIGHT, PRINCIPALS } from './scale-commit.js';
import type { FanoutRow } from './scale-fanout.js';
import type { MemoryRow } from './scale-memory.js';
import type { ReplayRow } from './scale-replay.js';
import { type AppendRow, PRODUCERS } from './scale-throughput.js';
import { rate as ingestRate, type Row as IngestRow } from './ingest-runner.js';
import { opsPerSecond } from './measure.js';
import { formatCount, formatRatio, formatSeconds, formatTable } from './table.js';

/** The `scale` report: one table, the baselines it divides by, the targets with yes/no. */

export interface ScaleResults {
  fanout: FanoutRow[];
  replay: ReplayRow[];
  memory: MemoryRow[];
  ingest: IngestRow[];
  append: AppendRow[];
  commit: CommitRow[];
  /** Why the Redis rows are missing, if they are. */
  redisRefusal: string | undefined;
  redisVersion: string | undefined;
}

const FANOUT_TARGET = 0.5;
const REPLAY_TARGET = 50_000;
const MEMORY_TARGET = 64 * 1024;
/** Webhook latency with the state held, at most this many times the latency without it. */
const COMMIT_TARGET = 1.5;

/** The value below which `share` of the sorted samples lie (nearest rank). */
function percentile(sorted: Float64Array, share: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(share * sorted.length) - 1))]!;
}

function quantiles(latencies: Float64Array): { p50: number; p99: number } {
  const sorted = Float64Array.from(latencies).sort();
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) };
}

function ms(value: number): string {
  return Number.isNaN(value) ? '–' : value.toFixed(1);
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`;
}

function microseconds(seconds: number | undefined): string {
  return seconds === undefined ? '–' : `${formatCount(seconds * 1e6)} µs`;
}

interface Line {
  part: string;
  server: string;
  count: string;
  seconds: string;
  rate: string;
  p50: string;
  p99: string;
  cpu: string;
  ratio: string;
}

function fanoutLines(rows: FanoutRow[], settings: ScaleSettings): Line[] {
  const bare = rows.find((r) => r.kind === 'bare');
  const rate = (r: FanoutRow) => r.delivered / r.seconds;
  return rows.map((r) => {
    const { p50, p99 } = quantiles(r.latencies);
    return {
      part: `fan-out, ${formatCount(settings.subscribers)} subscribers`,
      server: r.name,
      count: `${formatCount(r.delivered)} frames`,
      seconds: formatSeconds(r.seconds),
      rate: `${formatCount(rate(r))} frames/s`,
      p50: ms(p50),
      p99: ms(p99),
      cpu: microseconds(r.serverCpuSeconds === undefined ? undefined : r.serverCpuSeconds / r.delivered),
      ratio: r === bare || !bare ? 'baseline' : formatRatio(rate(r) / rate(bare)),
    };
  });
}

function replayLines(rows: ReplayRow[]): Line[] {
  const bare = rows.find((r) => r.kind === 'bare');
  const rate = (r: ReplayRow) => r.events / r.seconds;
  return rows.map((r) => ({
    part: `replay after ${formatCount(r.missed)} missed`,
    server: r.name,
    count: `${formatCount(r.events)} events`,
    seconds: formatSeconds(r.seconds),
    rate: `${formatCount(rate(r))} events/s`,
    p50: '',
    p99: '',
    cpu: microseconds(r.serverCpuSeconds === undefined ? undefined : r.serverCpuSeconds / r.events),
    ratio: r === bare || !bare ? 'baseline' : formatRatio(rate(r) / rate(bare)),
  }));
}

function memoryLines(rows: MemoryRow[]): Line[] {
  const perSubscriber = (r: MemoryRow) => (r.after - r.before) / r.subscribers;
  return rows.map((r) => {
    const bare = rows.find((b) => b.kind === 'bare' && b.subscribers === r.subscribers);
    return {
      part: `idle memory, ${formatCount(r.subscribers)} subscribers`,
      server: r.name,
      count: `${formatCount(r.subscribers)} streams`,
      seconds: '',
      rate: `${kib(perSubscriber(r))}/subscriber`,
      p50: '',
      p99: '',
      cpu: '',
      ratio: r === bare || !bare ? 'baseline' : `${formatRatio(perSubscriber(r) / perSubscriber(bare))} memory`,
    };
  });
}

/** autocannon's latencies are whole milliseconds, finer below 1 ms. */
function autocannonMs(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

function ingestLines(rows: IngestRow[]): Line[] {
  const bare = rows.find((r) => r.spec.kind === 'bare');
  return rows.map((r) => ({
    part: 'ingest, webhooks over HTTP',
    server: r.spec.name,
    count: `${formatCount(r.requests)} requests`,
    seconds: formatSeconds(r.seconds),
    rate: `${formatCount(ingestRate(r))} req/s`,
    p50: autocannonMs(r.p50),
    p99: autocannonMs(r.p99),
    cpu: microseconds(r.serverCpuPerRequest),
    ratio: r === bare || !bare ? 'baseline' : formatRatio(ingestRate(r) / ingestRate(bare)),
  }));
}

function appendLines(rows: AppendRow[]): Line[] {
  const bare = rows.find((r) => r.kind === 'bare');
  return rows.map((r) => ({
    part: r.kind === 'bare' ? 'append, 1 at a time' : `append, ${PRODUCERS} producers`,
    server: r.name,
    count: `${formatCount(r.result.ops)} events`,
    seconds: formatSeconds(r.result.seconds),
    rate: `${formatCount(opsPerSecond(r.result))} events/s`,
    p50: '',
    p99: '',
    cpu: '',
    ratio: r === bare || !bare ? 'baseline' : formatRatio(opsPerSecond(r.result) / opsPerSecond(bare.result)),
  }));
}

function commitLines(rows: CommitRow[]): Line[] {
  const bare = rows.find((r) => r.kind === 'bare');
  const base = bare ? quantiles(bare.latencies) : undefined;
  return rows.map((r) => {
    const { p50, p99 } = quantiles(r.latencies);
    return {
      part: 'webhook latency, commit cost',
      server: r.name,
      count: `${formatCount(r.webhooks)} webhooks`,
      seconds: formatSeconds(r.seconds),
      rate: `${formatCount(r.webhooks / r.seconds)} req/s`,
      p50: ms(p50),
      p99: ms(p99),
      cpu: microseconds(r.serverCpuSeconds === undefined ? undefined : r.serverCpuSeconds / r.webhooks),
      ratio: r === bare || !base ? 'baseline' : `p50 ${formatRatio(p50 / base.p50)}, p99 ${formatRatio(p99 / base.p99)}`,
    };
  });
}

export function printScaleReport(machine: string[], pinning: Pinning | undefined, settings: ScaleSettings, results: ScaleResults): void {
  console.log('# scale benchmark');
  for (const line of machine) console.log(line);
  console.log(`redis: ${results.redisRefusal === undefined ? `redis-server ${results.redisVersion}, no persistence, on the servers' core` : `not measured (${results.redisRefusal})`}`);
  console.log(
    pinning
      ? `cores: each server in its own child process pinned to CPU ${pinning.server}; ${settings.loaders} load-generator processes and the driver pinned to CPU ${pinning.client}`
      : `cores: not pinned (${os.availableParallelism() < 2 ? 'one core' : 'no taskset'}); ${settings.loaders} load-generator processes`,
  );
  if (results.fanout.length > 0) {
    console.log(
      `fan-out: ${settings.warmupEvents} warm-up + ${settings.events} timed events per server in ${settings.rounds} interleaved slices, ` +
        `at most ${settings.window} events not yet received by every subscriber`,
    );
  }
  console.log('');
  const lines = [
    ...fanoutLines(results.fanout, settings),
    ...replayLines(results.replay),
    ...memoryLines(results.memory),
    ...ingestLines(results.ingest),
    ...appendLines(results.append),
    ...commitLines(results.commit),
  ];
  const columns = [
    { header: 'measurement' },
    { header: 'server' },
    { header: 'count', align: 'right' as const },
    { header: 'seconds', align: 'right' as const },
    { header: 'rate', align: 'right' as const },
    { header: 'p50 ms', align: 'right' as const },
    { header: 'p99 ms', align: 'right' as const },
    { header: 'server CPU/op', align: 'right' as const },
    { header: 'ratio vs baseline', align: 'right' as const },
  ];
  console.log(formatTable(columns, lines.map((l) => [l.part, l.server, l.count, l.seconds, l.rate, l.p50, l.p99, l.cpu, l.ratio])));
  console.log('');
  console.log('baselines: fan-out ÷ the bare SSE broadcast server writing the same frames to as many subscribers;');
  console.log('           replay ÷ the bare server writing the same number of frames to one subscriber, paced by its socket;');
  console.log('           idle memory ÷ the bare server holding as many idle streams;');
  console.log('           ingest ÷ bare node:http reading the same signed deliveries (autocannon, 50 connections);');
  console.log(`           append ÷ bare better-sqlite3, one row per transaction, synchronous = full (the ${PRODUCERS} producers run in the bench process);`);
  console.log('           webhook latency ÷ the same relay holding no group names or sessions.');
  const bytes = [
    ...results.fanout.map((r) => `${r.name} ${formatCount(r.bytes / r.delivered)} B`),
    ...results.replay.map((r) => `${r.name} (replay) ${formatCount(r.bytes / r.events)} B`),
  ];
  if (bytes.length > 0) console.log(`wire bytes per event frame (stream bytes ÷ frames): ${bytes.join(', ')}`);
  if (results.fanout.length > 0) console.log('latency: from the publish answer (the webhook\'s 200) to the frame at the subscriber, on a shared clock.');
  if (results.commit.length > 0) {
    const rss = results.commit.map((r) => `${r.name} ${r.rssBytes === undefined ? '–' : `${formatCount(r.rssBytes / 2 ** 20)} MB`}`).join(', ');
    console.log(
      `commit cost: ${IN_FLIGHT} signed Stripe webhooks in flight, request to answer; the state spread over ${PRINCIPALS} principals within the default bounds, ` +
        `a tenth of the sessions subscribed to events://<principal>, none with a stream open. RSS after: ${rss}.`,
    );
  }
  console.log('');
  printTargets(results);
}

function printTargets(results: ScaleResults): void {
  const yes = (ok: boolean) => (ok ? 'yes' : 'no');
  const problems = [
    ...results.fanout.flatMap((r) => r.problems.map((p) => `${r.name}: ${p}`)),
    ...results.ingest.flatMap((r) => r.checks.filter((c) => c.startsWith('FAILED')).map((c) => `${r.spec.name}: ${c}`)),
  ];
  const bare = results.fanout.find((r) => r.kind === 'bare');
  const relay = results.fanout.find((r) => r.kind === 'relay');
  if (bare && relay) {
    const ratio = relay.delivered / relay.seconds / (bare.delivered / bare.seconds);
    console.log(`fan-out: relay ≥ 50 % of bare broadcast rate: ${yes(ratio >= FANOUT_TARGET)} (${formatRatio(ratio)})`);
  }
  for (const name of results.replay.length > 0 ? ['relay (sqlite full)', 'relay (redis)'] : []) {
    const row = results.replay.find((r) => r.name === name);
    const rate = row ? row.events / row.seconds : undefined;
    console.log(`replay: ${name} ≥ ${formatCount(REPLAY_TARGET)} events/s: ${rate === undefined ? 'not measured' : `${yes(rate >= REPLAY_TARGET)} (${formatCount(rate)} events/s)`}`);
  }
  for (const row of results.memory.filter((r) => r.kind === 'relay')) {
    const per = (row.after - row.before) / row.subscribers;
    console.log(`memory: relay < 64 KB per idle subscriber at ${formatCount(row.subscribers)}: ${yes(per < MEMORY_TARGET)} (${kib(per)})`);
  }
  const commitBare = results.commit.find((r) => r.kind === 'bare');
  const commitState = results.commit.find((r) => r.kind === 'state');
  if (commitBare && commitState) {
    const [base, held] = [quantiles(commitBare.latencies), quantiles(commitState.latencies)];
    const [p50, p99] = [held.p50 / base.p50, held.p99 / base.p99];
    console.log(`commit: webhook p50 and p99 with the state held ≤ ${COMMIT_TARGET}× without: ${yes(p50 <= COMMIT_TARGET && p99 <= COMMIT_TARGET)} (p50 ${formatRatio(p50)}, p99 ${formatRatio(p99)})`);
  }
  if (problems.length > 0) throw new Error(`scale benchmark checks failed:\n${problems.join('\n')}`);
}
