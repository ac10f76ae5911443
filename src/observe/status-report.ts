import { parseDuration } from '../duration.js';
import type { GroupCounts } from '../log/event-log.js';
import type { CallbackWindow } from './callback-stats.js';
import type { LatencyBins } from './latency-bins.js';
import type { GroupVisibility, Observability } from './observability.js';
import { type HandlerCounts, type Offender, type SeriesPoint, type SourceCounts, WindowedStats } from './windowed-stats.js';

/**
 * Latency percentiles in ms, read from log-scale bins (within ~19 %). A percentile beyond the
 * largest bin (~35 days) is null, and `overflow` is true: the report never gives a bin's cap
 * as a measurement. Null without samples.
 */
export type Percentiles<P extends string> = Record<P, number | null> & { count: number; overflow: boolean };

export type LatencyReport = Percentiles<'p50' | 'p95' | 'p99'>;

export interface HandlerReport extends HandlerCounts {
  successRate: number | null;
}

/**
 * Outbound webhook delivery (`events/subscribe`), relay-wide: every principal's subscriptions
 * and callbacks, whoever asks. `subscriptions` is the state now; the rest is over the window.
 */
export interface CallbackReport extends Omit<CallbackWindow, 'latency'> {
  subscriptions: { active: number; suspended: number };
  /** Relay commit to the subscriber's 2xx. */
  latencyMs: Percentiles<'p50' | 'p99'>;
}

/** `GET /status`: the operator's report over a window. Counts are numbers, latencies ms, times ISO. */
export interface StatusReport {
  status: 'ok' | 'alert';
  generatedAt: string;
  since: string;
  windowS: number;
  store: string;
  head: string | null;
  webhooks: { received: number; accepted: number; duplicate: number; rejected: number; bySource: Record<string, SourceCounts> };
  /** `due`: events whose drop deadline fell in the window; `dropRate` = dropped / due, null when none came due. */
  events: { accepted: number; processed: number; dropped: number; due: number; dropRate: number | null; threshold: number; deadlineS: number };
  alert: null | { since: string; dropRate: number; threshold: number; offenders: Offender[] };
  latencyMs: { delivery: LatencyReport; processing: LatencyReport; ack: LatencyReport };
  reactions: { successRate: number | null; byHandler: Record<string, HandlerReport> };
  groups: Record<string, GroupCounts>;
  streams: Record<string, number>;
  /** Clients listening for resource updates, by protocol version. */
  listeners: Record<string, number>;
  callbacks: CallbackReport;
  series: { bucketS: number; points: SeriesPoint[] };
}

export const DEFAULT_SINCE = '1h';

/** The window of `?since=`: a duration from 10 s to 7 d (`15m`, `24h`, `7d`), else a reason why not. */
export function parseSince(text: string | undefined): { ok: true; ms: number } | { ok: false; error: string; message: string } {
  const ms = parseDuration(text ?? DEFAULT_SINCE);
  if (ms === undefined) return { ok: false, error: 'invalid_since', message: 'since must be a duration such as 15m, 1h, 24h or 7d' };
  if (ms < WindowedStats.minWindowMs || ms > WindowedStats.maxWindowMs) return { ok: false, error: 'since_out_of_range', message: 'since must be between 10s and 7d' };
  return { ok: true, ms };
}

const QUANTILES = { p50: 0.5, p95: 0.95, p99: 0.99 } as const;

/** The percentiles `names` of `bins`; `overflow` when any of them lies beyond the largest bin. */
export function percentiles<P extends keyof typeof QUANTILES>(bins: LatencyBins, names: readonly P[]): Percentiles<P> {
  const values = Object.fromEntries(names.map((name) => [name, bins.quantile(QUANTILES[name])])) as Record<P, number | null>;
  return { ...values, count: bins.count, overflow: names.some((name) => bins.overflows(QUANTILES[name])) };
}

const latency = (bins: LatencyBins): LatencyReport => percentiles(bins, ['p50', 'p95', 'p99']);

async function callbackReport(observability: Observability, windowMs: number, now: number): Promise<CallbackReport> {
  const { latency, ...counts } = observability.callbacks.window(windowMs, now);
  return { subscriptions: await observability.callbacks.subscriptions(), ...counts, latencyMs: percentiles(latency, ['p50', 'p99']) };
}

/** Succeeded over succeeded + failed; skipped runs did not concern the handler. Null without runs. */
function successRate(counts: HandlerCounts): number | null {
  const ran = counts.succeeded + counts.failed;
  return ran === 0 ? null : counts.succeeded / ran;
}

/** The report as `visible` lets its viewer see it: consumer groups are a tenant's own, the rest describes the relay. */
export async function statusReport(observability: Observability, windowMs: number, visible: GroupVisibility): Promise<StatusReport> {
  const now = observability.now();
  const summary = observability.stats.summary(windowMs, now);
  const alert = observability.alert.current;
  const total: HandlerCounts = { succeeded: 0, failed: 0, skipped: 0 };
  const byHandler: Record<string, HandlerReport> = {};
  for (const [handler, counts] of Object.entries(summary.reactions)) {
    byHandler[handler] = { ...counts, successRate: successRate(counts) };
    total.succeeded += counts.succeeded;
    total.failed += counts.failed;
    total.skipped += counts.skipped;
  }
  return {
    status: alert ? 'alert' : 'ok',
    generatedAt: new Date(now).toISOString(),
    since: new Date(now - windowMs).toISOString(),
    windowS: windowMs / 1000,
    store: observability.log.kind,
    head: await observability.log.head(),
    webhooks: {
      received: summary.accepted + summary.duplicate + summary.rejected,
      accepted: summary.accepted,
      duplicate: summary.duplicate,
      rejected: summary.rejected,
      bySource: summary.bySource,
    },
    events: {
      accepted: summary.accepted,
      processed: summary.processed,
      dropped: summary.dropped,
      due: summary.due,
      dropRate: summary.due === 0 ? null : summary.dropped / summary.due,
      threshold: observability.threshold,
      deadlineS: observability.deadlineMs / 1000,
    },
    alert,
    latencyMs: { delivery: latency(summary.latency.delivery), processing: latency(summary.latency.processing), ack: latency(summary.latency.ack) },
    reactions: { successRate: successRate(total), byHandler },
    groups: await observability.groups(visible),
    streams: observability.streams.byEra(),
    listeners: observability.listeners(),
    callbacks: await callbackReport(observability, windowMs, now),
    series: { bucketS: summary.bucketS, points: summary.points },
  };
}
