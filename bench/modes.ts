import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { type ClientMode, createEventClient, type Event, type EventClient, type Subscription } from '../client/index.js';
import { describeMachine } from './machine.js';
import { countingFetch, newTraffic, type Traffic } from './modes-count.js';
import { BENCH_KEY, BENCH_PRINCIPAL, killRelayChildren, postWebhook, type RelayChild, startRelayChild } from './modes-relay.js';
import { formatCount, formatTable } from './table.js';

/**
 * `npm run bench -- modes`: what each delivery mode of the companion client costs over a
 * typical support day (requests and tool calls per day) and what it buys (latency from the
 * webhook's 2xx to onEvent). Two phases against a relay child process (memory store):
 *
 * 1. a compressed day (24 h in `--day-seconds`, factor k) for the per-day request counts;
 * 2. a real-time sample (`--sample-events` webhooks over `--sample-seconds`, real intervals)
 *    for the latency percentiles.
 *
 * See bench/README.md, section `modes`, for why counts and latency come from different phases.
 */

const DAY_MS = 86_400_000;
const TYPES = ['ticket.created', 'payment.failed', 'order.delayed'];
/** The real settings the table is about. */
const REAL = { heartbeatMs: 15_000, pollTimeoutMs: 25_000, tools1sMs: 1_000, tools30sMs: 30_000 };
/** Below this a scaled tools interval would be shorter than one loopback round trip. */
const MIN_SCALED_INTERVAL_MS = 5;

interface Settings {
  daySeconds: number;
  events: number;
  sampleEvents: number;
  sampleSeconds: number;
  seed: number;
}

type ModeKey = 'push' | 'poll' | 'tools-1s' | 'tools-30s';

interface ModeSpec {
  key: ModeKey;
  label: string;
  mode: ClientMode;
  /** The real pause (tools) or server wait (long poll) of one empty poll; 0 for push. */
  idleCycleMs: number;
}

const MODES: ModeSpec[] = [
  { key: 'push', label: 'push (events/stream)', mode: 'push', idleCycleMs: 0 },
  { key: 'poll', label: 'long poll (events/poll, timeoutMs 25 s)', mode: 'poll', idleCycleMs: REAL.pollTimeoutMs },
  { key: 'tools-1s', label: 'tools polling, 1 s interval', mode: 'tools', idleCycleMs: REAL.tools1sMs },
  { key: 'tools-30s', label: 'tools polling, 30 s interval', mode: 'tools', idleCycleMs: REAL.tools30sMs },
];

interface Agent {
  spec: ModeSpec;
  client: EventClient;
  sub: Subscription;
  traffic: Traffic;
  /** Event id → performance.now() when onEvent got it. */
  seen: Map<string, number>;
  order: string[];
  errors: string[];
}

interface PhaseResult {
  traffic: Record<ModeKey, Traffic>;
  latencies: Record<ModeKey, number[]>;
  problems: string[];
}

export async function run(args: string[]): Promise<void> {
  const settings = parseSettings(args);
  const k = DAY_MS / (settings.daySeconds * 1000);
  const onSigint = () => {
    killRelayChildren();
    process.exit(130);
  };
  process.once('SIGINT', onSigint);
  process.once('exit', killRelayChildren);
  try {
    const random = xorshift(settings.seed);
    const dayTimes = supportDay(settings.events, random);
    const sampleTimes = Array.from({ length: settings.sampleEvents }, () => random() * settings.sampleSeconds * 1000).sort((a, b) => a - b);

    const scaled: Record<ModeKey, { pollTimeoutMs?: number; toolsIntervalMs?: number }> = {
      push: {},
      poll: { pollTimeoutMs: Math.max(1, Math.round(REAL.pollTimeoutMs / k)) },
      'tools-1s': { toolsIntervalMs: Math.max(MIN_SCALED_INTERVAL_MS, Math.round(REAL.tools1sMs / k)) },
      'tools-30s': { toolsIntervalMs: Math.max(MIN_SCALED_INTERVAL_MS, Math.round(REAL.tools30sMs / k)) },
    };
    const real: typeof scaled = {
      push: {},
      poll: { pollTimeoutMs: REAL.pollTimeoutMs },
      'tools-1s': { toolsIntervalMs: REAL.tools1sMs },
      'tools-30s': { toolsIntervalMs: REAL.tools30sMs },
    };

    console.error(`phase 1: a support day of ${settings.events} events compressed ${k.toFixed(0)}× into ${settings.daySeconds} s`);
    const day = await phase('day', dayTimes.map((t) => t / k), settings.daySeconds * 1000, scaled);
    console.error(`phase 2: ${settings.sampleEvents} events over ${settings.sampleSeconds} s in real time, real intervals`);
    const sample = await phase('sample', sampleTimes, settings.sampleSeconds * 1000, real);

    printReport(settings, k, dayTimes, scaled, day, sample);
    if (day.problems.length + sample.problems.length > 0) process.exitCode = 1;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('exit', killRelayChildren);
    killRelayChildren();
  }
}

function parseSettings(args: string[]): Settings {
  const { values } = parseArgs({
    args,
    options: {
      'day-seconds': { type: 'string', default: '48' },
      events: { type: 'string', default: '40' },
      'sample-events': { type: 'string', default: '30' },
      'sample-seconds': { type: 'string', default: '30' },
      seed: { type: 'string', default: '1' },
    },
  });
  const settings = {
    daySeconds: Number(values['day-seconds']),
    events: Number(values.events),
    sampleEvents: Number(values['sample-events']),
    sampleSeconds: Number(values['sample-seconds']),
    seed: Number(values.seed),
  };
  const ok =
    settings.daySeconds >= 10 &&
    Number.isInteger(settings.events) &&
    settings.events >= 1 &&
    Number.isInteger(settings.sampleEvents) &&
    settings.sampleEvents >= 1 &&
    settings.sampleSeconds > 0 &&
    Number.isInteger(settings.seed) &&
    settings.seed > 0;
  if (!ok) {
    throw new Error('usage: modes [--day-seconds <s ≥ 10>=48] [--events <n>=40] [--sample-events <n>=30] [--sample-seconds <s>=30] [--seed <n>=1]');
  }
  return settings;
}

/**
 * Runs the four agents against a fresh relay, posts one webhook at each of `times` (ms from
 * the start), waits for every agent to see every event (or the deadline), and keeps going
 * until `lengthMs` has passed so idle traffic covers the whole phase.
 */
async function phase(
  name: string,
  times: number[],
  lengthMs: number,
  intervals: Record<ModeKey, { pollTimeoutMs?: number; toolsIntervalMs?: number }>,
): Promise<PhaseResult> {
  const relay = await startRelayChild();
  const agents: Agent[] = [];
  const problems: string[] = [];
  try {
    for (const spec of MODES) agents.push(await startAgent(relay, spec, intervals[spec.key]));
    const posted: { id: string; acceptedAt: number }[] = [];
    const start = performance.now();
    for (const [i, at] of times.entries()) {
      const wait = start + at - performance.now();
      if (wait > 0) await sleep(wait);
      posted.push(await postWebhook(relay.url, TYPES[i % TYPES.length]!));
    }
    // The slowest mode picks an event up one tools interval later; then some slack.
    const slowest = Math.max(...agents.map((a) => intervals[a.spec.key].toolsIntervalMs ?? 0));
    const deadline = Math.max(start + lengthMs, performance.now() + slowest + 10_000);
    while (performance.now() < deadline && agents.some((a) => a.seen.size < posted.length)) await sleep(20);
    const rest = start + lengthMs - performance.now();
    if (rest > 0) await sleep(rest);

    const ids = posted.map((p) => p.id);
    for (const agent of agents) {
      if (agent.sub.mode !== agent.spec.mode) problems.push(`${name}: ${agent.spec.key} ran in ${agent.sub.mode} mode`);
      const missing = ids.filter((id) => !agent.seen.has(id)).length;
      if (missing > 0) problems.push(`${name}: ${agent.spec.key} missed ${missing} of ${ids.length} events`);
      if (agent.order.join() !== ids.filter((id) => agent.seen.has(id)).join()) problems.push(`${name}: ${agent.spec.key} saw events out of order or twice`);
      for (const error of agent.errors) problems.push(`${name}: ${agent.spec.key} reported ${error}`);
    }
    const latencies = Object.fromEntries(
      agents.map((a) => [a.spec.key, posted.filter((p) => a.seen.has(p.id)).map((p) => a.seen.get(p.id)! - p.acceptedAt)]),
    ) as Record<ModeKey, number[]>;
    for (const agent of agents) await agent.client.close();
    // Responses cloned for the empty-poll check finish reading after the last request.
    await sleep(50);
    const traffic = Object.fromEntries(agents.map((a) => [a.spec.key, a.traffic])) as Record<ModeKey, Traffic>;
    return { traffic, latencies, problems };
  } finally {
    for (const agent of agents) await agent.client.close().catch(() => undefined);
    await relay.stop();
  }
}

async function startAgent(relay: RelayChild, spec: ModeSpec, intervals: { pollTimeoutMs?: number; toolsIntervalMs?: number }): Promise<Agent> {
  const traffic = newTraffic();
  const client = createEventClient({
    url: `${relay.url}/mcp`,
    token: BENCH_KEY,
    mode: spec.mode,
    fetch: countingFetch(traffic),
    heartbeatMs: REAL.heartbeatMs,
    ...intervals,
  });
  const seen = new Map<string, number>();
  const order: string[] = [];
  const errors: string[] = [];
  const sub = await client.subscribe({
    filter: { types: TYPES },
    ...(spec.mode === 'tools' ? { group: `${BENCH_PRINCIPAL}/${spec.key}` } : {}),
    onEvent: (event: Event) => {
      seen.set(event.id, performance.now());
      order.push(event.id);
    },
    onError: (error) => errors.push(error.kind),
  });
  return { spec, client, sub, traffic, seen, order, errors };
}

/**
 * `count` arrival times (ms into a 24 h day) for a support inbox: 80 % during a 08:00–18:00
 * working day, the rest at any hour; drawn from the seeded generator, sorted.
 */
function supportDay(count: number, random: () => number): number[] {
  const hour = 3_600_000;
  return Array.from({ length: count }, () => (random() < 0.8 ? 8 * hour + random() * 10 * hour : random() * DAY_MS)).sort((a, b) => a - b);
}

/** xorshift32: a small seeded generator, so every run posts the same day. */
function xorshift(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

function mean(values: number[]): number {
  return values.length === 0 ? 0 : values.reduce((s, v) => s + v, 0) / values.length;
}

function ms(value: number): string {
  if (Number.isNaN(value)) return 'n/a';
  return value < 10 ? value.toFixed(1) : formatCount(value);
}

interface PerDay {
  requests: number;
  toolCalls: number;
  measuredRequests: number;
  measuredToolCalls: number;
  emptyPerDay: number;
  cycleMs: number;
  overheadMs: number;
  overheadFrom: string;
}

/**
 * Per-day counts: everything the compressed day measured except its empty polls (setup,
 * event-carrying polls, acks, the push stream), plus the empty polls of a real day:
 * 24 h ÷ (real interval or long-poll wait + the measured extra time of one empty poll).
 */
function perDay(spec: ModeSpec, day: Traffic, sample: Traffic, pooledOverheadMs: number[]): PerDay {
  const measuredRequests = day.http - day.emptyPolls - day.abortedPolls;
  const measuredToolCalls = day.toolCalls - day.emptyToolCalls - day.abortedToolCalls;
  if (spec.idleCycleMs === 0) {
    return { requests: measuredRequests, toolCalls: measuredToolCalls, measuredRequests, measuredToolCalls, emptyPerDay: 0, cycleMs: 0, overheadMs: 0, overheadFrom: '' };
  }
  // Real-time samples describe a real idle round trip best (the compressed day runs four
  // agents flat out on a shared relay). The long poll and the 30 s tools have few of their
  // own, so they borrow those of every polling agent of the real-time phase.
  const [samples, overheadFrom] =
    sample.emptyOverheadMs.length >= 5 ? [sample.emptyOverheadMs, 'own, real time'] : [pooledOverheadMs, 'all pollers, real time'];
  const overheadMs = Math.max(0, mean(samples));
  const cycleMs = spec.idleCycleMs + overheadMs;
  const emptyPerDay = DAY_MS / cycleMs;
  const toolsPerEmpty = spec.mode === 'tools' ? 1 : 0;
  return {
    requests: measuredRequests + emptyPerDay,
    toolCalls: measuredToolCalls + emptyPerDay * toolsPerEmpty,
    measuredRequests,
    measuredToolCalls,
    emptyPerDay,
    cycleMs,
    overheadMs,
    overheadFrom,
  };
}

function printReport(
  settings: Settings,
  k: number,
  dayTimes: number[],
  scaled: Record<ModeKey, { pollTimeoutMs?: number; toolsIntervalMs?: number }>,
  day: PhaseResult,
  sample: PhaseResult,
): void {
  const hours = (t: number) => (t / 3_600_000).toFixed(1);
  const working = dayTimes.filter((t) => t >= 8 * 3_600_000 && t < 18 * 3_600_000).length;
  console.log('# modes benchmark: delivery modes over a support day');
  for (const line of describeMachine()) console.log(line);
  console.log(`relay: node --import tsx src/cli.ts serve in a child process, RELAY_STORE=memory, RELAY_HEARTBEAT=15s (default), one fresh relay per phase`);
  console.log(`agents: 4 createEventClient subscriptions in this process, all at once, each with its own counting fetch; filter types ${TYPES.join(', ')}`);
  console.log(
    `day: ${settings.events} Standard Webhooks deliveries, seed ${settings.seed}: ${working} between 08:00 and 18:00, first ${hours(dayTimes[0]!)} h, last ${hours(dayTimes.at(-1)!)} h`,
  );
  const gaps = dayTimes.slice(1).map((t, i) => t - dayTimes[i]!);
  const closest = Math.min(...gaps);
  console.log(`closest two arrivals: ${(closest / 60_000).toFixed(1)} min apart in the day, ${(closest / k).toFixed(0)} ms in the compressed run`);
  console.log('');

  const pooled = MODES.flatMap((spec) => sample.traffic[spec.key].emptyOverheadMs);
  const rows = MODES.map((spec) => {
    const counts = perDay(spec, day.traffic[spec.key], sample.traffic[spec.key], pooled);
    const lat = sample.latencies[spec.key];
    return { spec, counts, lat };
  });
  console.log(
    formatTable(
      [
        { header: 'mode' },
        { header: 'requests/day', align: 'right' },
        { header: 'tool calls/day', align: 'right' },
        { header: 'p50 ms', align: 'right' },
        { header: 'p95 ms', align: 'right' },
        { header: 'p99 ms', align: 'right' },
      ],
      rows.map(({ spec, counts, lat }) => [
        spec.label,
        formatCount(counts.requests),
        formatCount(counts.toolCalls),
        ms(percentile(lat, 0.5)),
        ms(percentile(lat, 0.95)),
        ms(percentile(lat, 0.99)),
      ]),
    ),
  );
  console.log('');
  console.log('How the counts were made (phase 1, compressed day):');
  console.log(
    `- 24 h compressed into ${settings.daySeconds} s, k = ${k.toFixed(0)}: every arrival time divided by k; the long-poll timeoutMs ${REAL.pollTimeoutMs} → ` +
      `${scaled.poll.pollTimeoutMs} ms; tools intervals 30 s → ${scaled['tools-30s'].toolsIntervalMs} ms and 1 s → ${scaled['tools-1s'].toolsIntervalMs} ms ` +
      `(1 s ÷ k would be ${(REAL.tools1sMs / k).toFixed(2)} ms, under one round trip, so it is floored at ${MIN_SCALED_INTERVAL_MS} ms). ` +
      'Heartbeats are not scaled (the relay refuses < 100 ms) and send no requests.',
  );
  console.log(
    '- Measured as is: setup, the push stream, polls that carried events, acks. These do not depend on the clock. ' +
      'Not counted: the one poll in flight when the agent unsubscribes. ' +
      'Not taken from the compressed run: empty polls. A scaled interval still pays a real round trip, so their compressed count is no per-day figure. ' +
      'Instead empty polls/day = 86 400 s ÷ (real interval or long-poll wait + measured extra time of one empty poll).',
  );
  console.log('- Each agent connects once per day (a long-lived agent); a reconnect costs its setup again.');
  console.log('');
  console.log(
    formatTable(
      [
        { header: 'mode' },
        { header: 'measured (setup + events)', align: 'right' },
        { header: 'of which tool calls', align: 'right' },
        { header: 'empty polls/day', align: 'right' },
        { header: 'idle cycle', align: 'right' },
        { header: 'compressed run: requests / empty / cut at end', align: 'right' },
        { header: 'requests by method (compressed run)' },
      ],
      rows.map(({ spec, counts }) => {
        const t = day.traffic[spec.key];
        return [
          spec.label,
          formatCount(counts.measuredRequests),
          formatCount(counts.measuredToolCalls),
          formatCount(counts.emptyPerDay),
          counts.cycleMs === 0 ? '—' : `${(counts.cycleMs / 1000).toFixed(3)} s (+${counts.overheadMs.toFixed(1)} ms, ${counts.overheadFrom})`,
          `${formatCount(t.http)} / ${formatCount(t.emptyPolls)} / ${t.abortedPolls}`,
          [...t.byMethod].map(([m, n]) => `${m} ${n}`).join(', '),
        ];
      }),
    ),
  );
  console.log('');
  const n = sample.latencies.push.length;
  console.log(
    `Latency (phase 2): real time, not scaled. ${settings.sampleEvents} webhooks at seeded uniform random moments over ${settings.sampleSeconds} s, ` +
      `the four agents running with the real settings (heartbeat 15 s, timeoutMs 25 s, tools 1 s and 30 s). ` +
      `Latency = performance.now() at onEvent − performance.now() when the webhook's 200 status line arrived, same process, same clock. ` +
      `${n} samples per mode: p99 of ${n} is its largest or second largest value, an indication only.`,
  );
  console.log(
    'Push latency can be below 0: the relay commits, pushes the frame, then answers the webhook, and the frame can reach this process first. ' +
      'Notes: push costs one long-lived request (plus ~5 760 heartbeat frames/day on it at 15 s, not requests). ' +
      'Long poll model ignores that an event cuts one wait short (≤ 1 request per event, ≤ 40/day). ' +
      'Tools polling latency is about half the interval on average; its requests/day are set by the interval, not by the events.',
  );
  const problems = [...day.problems, ...sample.problems];
  console.log('');
  console.log(
    problems.length === 0
      ? `checked: in both phases every mode delivered every event once, in log order (${settings.events} + ${settings.sampleEvents}), with no onError report`
      : `PROBLEMS:\n${problems.map((p) => `- ${p}`).join('\n')}`,
  );
}
