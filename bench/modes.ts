import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { type Agent, DAY_MS, type Intervals, MIN_SCALED_INTERVAL_MS, type ModeKey, MODES, REAL, REAL_INTERVALS, startAgent, TYPES } from './modes-agent.js';
import type { Traffic } from './modes-count.js';
import { recoveryPhase } from './modes-recovery.js';
import { buildRelay, killRelayChildren, postWebhook, startRelayChild } from './modes-relay.js';
import { type DayPhases, type PhaseResult, printReport, type Settings } from './modes-report.js';

/**
 * `npm run bench -- modes`: what each delivery mode of the companion client costs over a
 * typical support day (requests and tool calls per day), what it buys (latency from the
 * webhook's 2xx to onEvent), and how soon it delivers again after the relay restarts.
 * Three phases against relay child processes:
 *
 * 1. a compressed day (24 h in `--day-seconds`, factor k) for the per-day request counts;
 * 2. a real-time sample (`--sample-events` webhooks over `--sample-seconds`, real intervals)
 *    for the latency percentiles;
 * 3. `--recovery-runs` restarts of a relay with a SQLite log, by SIGKILL and by SIGTERM
 *    (`modes-recovery.ts`); `--only recovery` runs this phase alone.
 *
 * See bench/README.md, section `modes`, for why counts and latency come from different phases.
 */

const USAGE =
  'usage: modes [--day-seconds <s ≥ 10>=48] [--events <n>=40] [--sample-events <n>=30] [--sample-seconds <s>=30] [--seed <n>=1] ' +
  '[--recovery-runs <n ≥ 0>=5] [--only recovery]';

export async function run(args: string[]): Promise<void> {
  const settings = parseSettings(args);
  if (settings === undefined) {
    console.log(USAGE);
    return;
  }
  const onSigint = () => {
    killRelayChildren();
    process.exit(130);
  };
  process.once('SIGINT', onSigint);
  process.once('exit', killRelayChildren);
  try {
    buildRelay();
    const phases = settings.recoveryOnly ? undefined : await dayPhases(settings);
    if (settings.recoveryRuns > 0) console.error(`phase 3: ${settings.recoveryRuns} relay restarts by kill -9 and as many by SIGTERM`);
    const recovery = settings.recoveryRuns > 0 ? await recoveryPhase(settings.recoveryRuns) : undefined;
    if (printReport(settings, phases, recovery) > 0) process.exitCode = 1;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('exit', killRelayChildren);
    killRelayChildren();
  }
}

async function dayPhases(settings: Settings): Promise<DayPhases> {
  const k = DAY_MS / (settings.daySeconds * 1000);
  const random = xorshift(settings.seed);
  const dayTimes = supportDay(settings.events, random);
  const sampleTimes = Array.from({ length: settings.sampleEvents }, () => random() * settings.sampleSeconds * 1000).sort((a, b) => a - b);
  const scaled: Record<ModeKey, Intervals> = {
    push: {},
    poll: { pollTimeoutMs: Math.max(1, Math.round(REAL.pollTimeoutMs / k)) },
    'tools-1s': { toolsIntervalMs: Math.max(MIN_SCALED_INTERVAL_MS, Math.round(REAL.tools1sMs / k)) },
    'tools-30s': { toolsIntervalMs: Math.max(MIN_SCALED_INTERVAL_MS, Math.round(REAL.tools30sMs / k)) },
  };
  console.error(`phase 1: a support day of ${settings.events} events compressed ${k.toFixed(0)}× into ${settings.daySeconds} s`);
  const day = await phase('day', dayTimes.map((t) => t / k), settings.daySeconds * 1000, scaled);
  console.error(`phase 2: ${settings.sampleEvents} events over ${settings.sampleSeconds} s in real time, real intervals`);
  const sample = await phase('sample', sampleTimes, settings.sampleSeconds * 1000, REAL_INTERVALS);
  return { k, dayTimes, scaled, day, sample };
}

/** The settings, or undefined for `--help`. */
function parseSettings(args: string[]): Settings | undefined {
  const { values } = parseArgs({
    args,
    options: {
      'day-seconds': { type: 'string', default: '48' },
      events: { type: 'string', default: '40' },
      'sample-events': { type: 'string', default: '30' },
      'sample-seconds': { type: 'string', default: '30' },
      seed: { type: 'string', default: '1' },
      'recovery-runs': { type: 'string', default: '5' },
      only: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return undefined;
  const settings = {
    daySeconds: Number(values['day-seconds']),
    events: Number(values.events),
    sampleEvents: Number(values['sample-events']),
    sampleSeconds: Number(values['sample-seconds']),
    seed: Number(values.seed),
    recoveryRuns: Number(values['recovery-runs']),
    recoveryOnly: values.only === 'recovery',
  };
  const ok =
    settings.daySeconds >= 10 &&
    Number.isInteger(settings.events) &&
    settings.events >= 1 &&
    Number.isInteger(settings.sampleEvents) &&
    settings.sampleEvents >= 1 &&
    settings.sampleSeconds > 0 &&
    Number.isInteger(settings.seed) &&
    settings.seed > 0 &&
    Number.isInteger(settings.recoveryRuns) &&
    settings.recoveryRuns >= (settings.recoveryOnly ? 1 : 0) &&
    (values.only === undefined || settings.recoveryOnly);
  if (!ok) throw new Error(USAGE);
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
  intervals: Record<ModeKey, Intervals>,
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
