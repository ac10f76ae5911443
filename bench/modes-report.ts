import { DAY_MS, type Intervals, MIN_SCALED_INTERVAL_MS, type ModeKey, MODES, type ModeSpec, REAL, TYPES } from './modes-agent.js';
import { startNodeFlags } from './ingest-runner.js';
import type { Traffic } from './modes-count.js';
import { RECOVERY_MODES, RECOVERY_TARGET_MS, type RecoveryResult, STOP_LABELS, STOPS } from './modes-recovery.js';
import { describeMachine } from './machine.js';
import { type Column, formatCount, formatTable } from './table.js';

/** The report of `npm run bench -- modes`: see bench/README.md, section `modes`. */

export interface Settings {
  daySeconds: number;
  events: number;
  sampleEvents: number;
  sampleSeconds: number;
  seed: number;
  /** Rounds of phase 3 per way of stopping the relay; 0 leaves it out. */
  recoveryRuns: number;
  /** Phase 3 only. */
  recoveryOnly: boolean;
}

export interface PhaseResult {
  traffic: Record<ModeKey, Traffic>;
  latencies: Record<ModeKey, number[]>;
  problems: string[];
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

/** Phases 1 and 2 and what they were run with. */
export interface DayPhases {
  /** How many times faster than real time the day ran. */
  k: number;
  dayTimes: number[];
  scaled: Record<ModeKey, Intervals>;
  day: PhaseResult;
  sample: PhaseResult;
}

/** The whole report; `phases` or `recovery` is left out when it was not run. Returns how many problems it listed. */
export function printReport(settings: Settings, phases: DayPhases | undefined, recovery: RecoveryResult | undefined): number {
  console.log('# modes benchmark: delivery modes over a support day');
  for (const line of describeMachine()) console.log(line);
  if (phases) printDayPhases(settings, phases, recovery);
  else if (recovery) {
    console.log('');
    console.log(formatTable([{ header: 'mode' }, ...recoveryColumns(recovery)], MODES.map((spec) => [spec.label, ...recoveryCells(recovery, spec.key)])));
  }
  if (recovery) {
    console.log('');
    for (const line of recoveryNotes(recovery)) console.log(line);
  }
  const problems = [...(phases ? [...phases.day.problems, ...phases.sample.problems] : []), ...(recovery?.problems ?? [])];
  const checked = [
    ...(phases ? [`in both phases every mode delivered every event once, in log order (${settings.events} + ${settings.sampleEvents}), with no onError report`] : []),
    ...(recovery ? [`after each of ${2 * recovery.runs} restarts every mode delivered the next event, each event once and in order, reporting nothing but reconnects`] : []),
  ];
  console.log('');
  console.log(problems.length === 0 ? `checked: ${checked.join('; ')}` : `PROBLEMS:\n${problems.map((p) => `- ${p}`).join('\n')}`);
  return problems.length;
}

function printDayPhases(settings: Settings, { k, dayTimes, scaled, day, sample }: DayPhases, recovery: RecoveryResult | undefined): void {
  const hours = (t: number) => (t / 3_600_000).toFixed(1);
  const working = dayTimes.filter((t) => t >= 8 * 3_600_000 && t < 18 * 3_600_000).length;
  console.log(`relay: node ${startNodeFlags().join(' ')} dist/src/cli.js serve (as npm start runs it) in a child process, RELAY_STORE=memory, RELAY_REACTIONS=off, RELAY_HEARTBEAT=15s (default), one fresh relay per phase`);
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
        ...(recovery ? recoveryColumns(recovery) : []),
      ],
      rows.map(({ spec, counts, lat }) => [
        spec.label,
        formatCount(counts.requests),
        formatCount(counts.toolCalls),
        ms(percentile(lat, 0.5)),
        ms(percentile(lat, 0.95)),
        ms(percentile(lat, 0.99)),
        ...(recovery ? recoveryCells(recovery, spec.key) : []),
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
}

function medianAndMax(values: number[] | undefined): string {
  if (!values?.length) return '—';
  return `${formatCount(percentile(values, 0.5))} / ${formatCount(Math.max(...values))}`;
}

/** Columns for the report's table: recovery per way of stopping the relay. */
function recoveryColumns(result: RecoveryResult): Column[] {
  return STOPS.map((stop) => ({ header: `after ${STOP_LABELS[stop]}: median / max ms (n=${result.runs})`, align: 'right' }));
}

/** This mode's cells under {@link recoveryColumns}; `—` for a mode not measured. */
function recoveryCells(result: RecoveryResult, key: ModeKey): string[] {
  return STOPS.map((stop) => medianAndMax(result.samples[stop][key]));
}

/** What the recovery columns mean, and whether the target was met. */
function recoveryNotes(result: RecoveryResult): string[] {
  const worst = RECOVERY_MODES.map((spec) => ({ key: spec.key, max: Math.max(...(result.samples.kill[spec.key] ?? [Number.POSITIVE_INFINITY])) }));
  const met = worst.every((w) => w.max <= RECOVERY_TARGET_MS);
  return [
    `Recovery (phase 3): ${result.runs} rounds per way of stopping, relay child with RELAY_STORE=sqlite in a temp dir, restarted on the same port and file; ` +
      'agents push, long poll and tools 1 s with the real settings (tools 30 s would measure its interval). ' +
      'Recovery = performance.now() at onEvent − when GET /healthz (probed every 10 ms) first answered 200 again; the webhook is posted at that moment, ' +
      'so its commit is included. Each round starts with all agents caught up.',
    `Relay down (signal → /healthz answers): kill -9 median ${formatCount(percentile(result.downMs.kill, 0.5))} ms, SIGTERM median ${formatCount(percentile(result.downMs.term, 0.5))} ms.`,
    `Target ≤ ${RECOVERY_TARGET_MS} ms after kill -9, every round: ${met ? 'met' : 'NOT met'} (max ${worst.map((w) => `${w.key} ${formatCount(w.max)} ms`).join(', ')}).`,
  ];
}
