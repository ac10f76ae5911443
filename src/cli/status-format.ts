import type { LatencyReport, StatusReport } from '../observe/status-report.js';
import { DEFAULT_SINCE, parseSince } from '../observe/status-report.js';

/**
 * What `mcp-event-relay status` prints: the operator's report from a running relay's
 * `GET /status` — webhooks received and processed, drop rate against its threshold,
 * delivery and processing latency, action success rate, and the alert if one is raised.
 */

export interface StatusFlags {
  since?: string;
  url?: string;
  'api-key'?: string;
  json?: boolean;
}

export interface StatusSettings {
  /** The `/status` URL, with `since`. */
  url: string;
  apiKey: string | undefined;
  since: string;
  json: boolean;
}

/** Flags first, then `RELAY_TOKEN` for the key; `defaultUrl` is the relay on HOST/PORT. Throws a message for a bad `--since`. */
export function statusSettings(flags: StatusFlags, env: NodeJS.ProcessEnv, defaultUrl: string): StatusSettings {
  const since = flags.since ?? DEFAULT_SINCE;
  const parsed = parseSince(since);
  if (!parsed.ok) throw new Error(`--since: ${parsed.message}`);
  const base = (flags.url ?? defaultUrl).replace(/\/+$/, '').replace(/\/status$/, '');
  return { url: `${base}/status?since=${encodeURIComponent(since)}`, apiKey: flags['api-key'] ?? (env.RELAY_TOKEN || undefined), since, json: flags.json === true };
}

export function formatDuration(ms: number | null): string {
  if (ms === null) return '—';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

export function formatPercent(rate: number | null): string {
  return rate === null ? '—' : `${(rate * 100).toFixed(rate > 0 && rate < 0.01 ? 3 : 1)} %`;
}

/** A percentile: `over 35 d` (the largest bin) when it lies beyond the bins, never the cap. */
function percentile(latency: { overflow: boolean }, ms: number | null): string {
  return ms === null && latency.overflow ? 'beyond the largest bin (~35 d)' : formatDuration(ms);
}

function samples(latency: LatencyReport): string {
  return latency.count === 0 ? 'no samples' : `${latency.count} samples`;
}

/** The report as aligned lines, the numbers an operator asks for first. */
export function formatStatus(report: StatusReport, since: string): string {
  const { webhooks, events, latencyMs, reactions, alert, callbacks } = report;
  const runs = Object.values(reactions.byHandler).reduce((sum, h) => ({ succeeded: sum.succeeded + h.succeeded, failed: sum.failed + h.failed }), { succeeded: 0, failed: 0 });
  const dropRate = events.dropRate === null ? 'no event came due yet' : `${formatPercent(events.dropRate)} (threshold ${formatPercent(events.threshold)})`;
  const lines: [string, string][] = [
    ['status', report.status === 'alert' ? 'ALERT' : 'ok'],
    ['webhooks received', `${webhooks.received} (${webhooks.accepted} accepted, ${webhooks.duplicate} duplicate, ${webhooks.rejected} rejected)`],
    ['events processed', `${events.processed} of ${events.accepted} accepted, ${events.dropped} dropped (deadline ${events.deadlineS} s)`],
    ['drop rate', dropRate],
    ['delivery latency', `p50 ${percentile(latencyMs.delivery, latencyMs.delivery.p50)}, p95 ${percentile(latencyMs.delivery, latencyMs.delivery.p95)} (${samples(latencyMs.delivery)})`],
    ['processing latency', `p99 ${percentile(latencyMs.processing, latencyMs.processing.p99)} (${samples(latencyMs.processing)})`],
    [
      'webhook delivery',
      `${callbacks.delivered} delivered, ${callbacks.abandoned} abandoned, ${callbacks.subscriptions.active} active / ${callbacks.subscriptions.suspended} suspended subscriptions; p99 ${percentile(callbacks.latencyMs, callbacks.latencyMs.p99)}`,
    ],
    ['action success', reactions.successRate === null ? 'no reaction ran' : `${formatPercent(reactions.successRate)} (${runs.succeeded} succeeded, ${runs.failed} failed)`],
  ];
  if (alert) {
    const offenders = alert.offenders.map((o) => `${o.source} ${o.type} ×${o.dropped}`).join(', ');
    lines.push(['alert', `raised ${alert.since}: drop rate ${formatPercent(alert.dropRate)} > ${formatPercent(alert.threshold)}${offenders ? `; ${offenders}` : ''}`]);
  }
  const width = Math.max(...lines.map(([label]) => label.length));
  const head = `mcp-event-relay status: last ${since} (${report.since} – ${report.generatedAt}), store ${report.store}`;
  return [head, ...lines.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`)].join('\n');
}
