import { LatencyBins } from './latency-bins.js';
import { historyRings, MAX_WINDOW_MS, MIN_WINDOW_MS, windowOf } from './time-rings.js';

export type LatencyKind = 'delivery' | 'processing' | 'ack';
export type ReactionOutcome = 'succeeded' | 'failed' | 'skipped';

export interface SourceCounts {
  accepted: number;
  duplicate: number;
  rejected: number;
  rejectedByReason: Record<string, number>;
}

export interface HandlerCounts {
  succeeded: number;
  failed: number;
  skipped: number;
}

export interface Offender {
  source: string;
  type: string;
  dropped: number;
}

/** One bucket of the series: counts, and latency quantiles in ms (null without samples, or beyond the largest latency bin). */
export interface SeriesPoint {
  t: string;
  accepted: number;
  duplicate: number;
  rejected: number;
  processed: number;
  dropped: number;
  bySource: Record<string, number>;
  deliveryP50: number | null;
  deliveryP95: number | null;
  processingP99: number | null;
}

export interface WindowSummary {
  bucketS: number;
  accepted: number;
  duplicate: number;
  rejected: number;
  processed: number;
  dropped: number;
  /** Events whose drop deadline fell in the window: the drop rate's denominator. */
  due: number;
  bySource: Record<string, SourceCounts>;
  offenders: Offender[];
  latency: Record<LatencyKind, LatencyBins>;
  reactions: Record<string, HandlerCounts>;
  points: SeriesPoint[];
}

const LATENCY_KINDS: readonly LatencyKind[] = ['delivery', 'processing', 'ack'];

class Bucket {
  index = -1;
  accepted = 0;
  duplicate = 0;
  rejected = 0;
  processed = 0;
  dropped = 0;
  due = 0;
  readonly sources = new Map<string, SourceCounts>();
  readonly offenders = new Map<string, Offender>();
  readonly reactions = new Map<string, HandlerCounts>();
  latency: Record<LatencyKind, LatencyBins | null> = { delivery: null, processing: null, ack: null };

  reset(index: number): void {
    this.index = index;
    this.accepted = this.duplicate = this.rejected = this.processed = this.dropped = this.due = 0;
    this.sources.clear();
    this.offenders.clear();
    this.reactions.clear();
    this.latency = { delivery: null, processing: null, ack: null };
  }

  source(name: string): SourceCounts {
    let counts = this.sources.get(name);
    if (!counts) this.sources.set(name, (counts = { accepted: 0, duplicate: 0, rejected: 0, rejectedByReason: {} }));
    return counts;
  }
}

/**
 * Time-bucketed history of what the relay saw, kept in the server so a report can be asked
 * for any window up to 7 days: 10 s buckets for the last hour, 1 min for the last day, 1 h
 * for the last week. Every sample goes into all three rings; a window is read from the
 * finest ring that covers it. Memory is fixed by the rings, not by traffic.
 */
export class WindowedStats {
  readonly #rings = historyRings(() => new Bucket());

  /** The longest window a summary can cover. */
  static readonly maxWindowMs = MAX_WINDOW_MS;
  static readonly minWindowMs = MIN_WINDOW_MS;

  /** `outcome`: `accepted`, `duplicate`, or a rejection reason code. */
  webhook(source: string, outcome: string, t: number): void {
    for (const ring of this.#rings) {
      const bucket = ring.write(t);
      const counts = bucket.source(source);
      if (outcome === 'accepted') {
        bucket.accepted++;
        counts.accepted++;
      } else if (outcome === 'duplicate') {
        bucket.duplicate++;
        counts.duplicate++;
      } else {
        bucket.rejected++;
        counts.rejected++;
        counts.rejectedByReason[outcome] = (counts.rejectedByReason[outcome] ?? 0) + 1;
      }
    }
  }

  latency(kind: LatencyKind, ms: number, t: number): void {
    for (const ring of this.#rings) (ring.write(t).latency[kind] ??= new LatencyBins()).record(ms);
  }

  processed(t: number): void {
    for (const ring of this.#rings) ring.write(t).processed++;
  }

  /** An event reached its drop deadline at `t`, delivered or not. */
  due(source: string, type: string, dropped: boolean, t: number): void {
    for (const ring of this.#rings) {
      const bucket = ring.write(t);
      bucket.due++;
      if (!dropped) continue;
      bucket.dropped++;
      const key = `${source}\u0000${type}`;
      const offender = bucket.offenders.get(key);
      if (offender) offender.dropped++;
      else bucket.offenders.set(key, { source, type, dropped: 1 });
    }
  }

  reaction(handler: string, outcome: ReactionOutcome, t: number): void {
    for (const ring of this.#rings) {
      const reactions = ring.write(t).reactions;
      let counts = reactions.get(handler);
      if (!counts) reactions.set(handler, (counts = { succeeded: 0, failed: 0, skipped: 0 }));
      counts[outcome]++;
    }
  }

  /** Due and dropped events over the last `windowMs`, with who dropped them; cheap enough to run every sweep. */
  dropWindow(windowMs: number, now: number): { due: number; dropped: number; offenders: Offender[] } {
    let due = 0;
    let dropped = 0;
    const offenders = new Map<string, Offender>();
    for (const bucket of windowOf(this.#rings, windowMs, now).buckets) {
      if (!bucket) continue;
      due += bucket.due;
      dropped += bucket.dropped;
      mergeOffenders(offenders, bucket.offenders);
    }
    return { due, dropped, offenders: sortedOffenders(offenders) };
  }

  summary(windowMs: number, now: number): WindowSummary {
    const { ring, first, buckets } = windowOf(this.#rings, windowMs, now);
    const summary: WindowSummary = {
      bucketS: ring.bucketMs / 1000,
      accepted: 0,
      duplicate: 0,
      rejected: 0,
      processed: 0,
      dropped: 0,
      due: 0,
      bySource: {},
      offenders: [],
      latency: { delivery: new LatencyBins(), processing: new LatencyBins(), ack: new LatencyBins() },
      reactions: {},
      points: [],
    };
    const offenders = new Map<string, Offender>();
    buckets.forEach((bucket, i) => {
      summary.points.push(point(bucket, new Date((first + i) * ring.bucketMs).toISOString()));
      if (!bucket) return;
      summary.accepted += bucket.accepted;
      summary.duplicate += bucket.duplicate;
      summary.rejected += bucket.rejected;
      summary.processed += bucket.processed;
      summary.dropped += bucket.dropped;
      summary.due += bucket.due;
      for (const [name, counts] of bucket.sources) mergeSource((summary.bySource[name] ??= { accepted: 0, duplicate: 0, rejected: 0, rejectedByReason: {} }), counts);
      mergeOffenders(offenders, bucket.offenders);
      for (const kind of LATENCY_KINDS) {
        const bins = bucket.latency[kind];
        if (bins) summary.latency[kind].add(bins);
      }
      for (const [handler, counts] of bucket.reactions) {
        const total = (summary.reactions[handler] ??= { succeeded: 0, failed: 0, skipped: 0 });
        total.succeeded += counts.succeeded;
        total.failed += counts.failed;
        total.skipped += counts.skipped;
      }
    });
    summary.offenders = sortedOffenders(offenders);
    return summary;
  }
}

function point(bucket: Bucket | undefined, t: string): SeriesPoint {
  const bySource: Record<string, number> = {};
  for (const [name, counts] of bucket?.sources ?? []) if (counts.accepted > 0) bySource[name] = counts.accepted;
  return {
    t,
    accepted: bucket?.accepted ?? 0,
    duplicate: bucket?.duplicate ?? 0,
    rejected: bucket?.rejected ?? 0,
    processed: bucket?.processed ?? 0,
    dropped: bucket?.dropped ?? 0,
    bySource,
    deliveryP50: bucket?.latency.delivery?.quantile(0.5) ?? null,
    deliveryP95: bucket?.latency.delivery?.quantile(0.95) ?? null,
    processingP99: bucket?.latency.processing?.quantile(0.99) ?? null,
  };
}

function mergeSource(into: SourceCounts, from: SourceCounts): void {
  into.accepted += from.accepted;
  into.duplicate += from.duplicate;
  into.rejected += from.rejected;
  for (const [reason, n] of Object.entries(from.rejectedByReason)) into.rejectedByReason[reason] = (into.rejectedByReason[reason] ?? 0) + n;
}

function mergeOffenders(into: Map<string, Offender>, from: ReadonlyMap<string, Offender>): void {
  for (const [key, offender] of from) {
    const total = into.get(key);
    if (total) total.dropped += offender.dropped;
    else into.set(key, { ...offender });
  }
}

function sortedOffenders(offenders: Map<string, Offender>): Offender[] {
  return [...offenders.values()].sort((a, b) => b.dropped - a.dropped || a.source.localeCompare(b.source) || a.type.localeCompare(b.type));
}
