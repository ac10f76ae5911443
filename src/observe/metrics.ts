import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ulidTime } from '../events/ulid.js';
import type { GroupCounts } from '../log/event-log.js';
import type { LatencyKind, ReactionOutcome } from './windowed-stats.js';

/** Handler runs by handler and outcome, with the time they took. */
export interface RunTotals {
  handler: string;
  outcome: ReactionOutcome;
  count: number;
  totalMs: number;
}

/** Read on each scrape, so the numbers come from their owners instead of being counted twice. */
export interface MetricsSources {
  /** Open push streams by protocol era (`2025-11-25`, `2026-07-28`). */
  streams(): Record<string, number>;
  /** Clients listening for resource updates, by protocol era. */
  listeners(): Record<string, number>;
  /** `notifications/resources/updated` sent so far, by protocol era. */
  resourceUpdates(): Record<string, number>;
  head(): Promise<string | null>;
  /** The oldest retained event id: with the head, how much history the log holds. */
  oldest(): Promise<string | null>;
  /** Events the log holds. */
  retained(): Promise<number>;
  /** Drop rate over the alert window; null when nothing came due. */
  dropRate(): number | null;
  alertRaised(): boolean;
  tracked(): number;
  reactions(): RunTotals[];
}

/**
 * The buckets (seconds) of every latency histogram: milliseconds for live traffic, up to 3
 * days for what arrives late (a provider retrying for hours, a webhook subscriber back after
 * an outage), so a late event is counted in a bucket that says how late, not only in `+Inf`.
 */
export const LATENCY_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21_600, 86_400, 259_200];

/**
 * The relay's Prometheus metrics, in a registry of its own (several relays in one process do
 * not collide). Label values are bounded: sources from configuration (`_unknown` for every
 * unconfigured route), types from the catalogue or `other`, handlers and groups from
 * configuration and principals — never ids. Consumer groups belong to tenants, so their
 * gauge is not in the shared registry: {@link render} adds the groups the viewer may see.
 */
export class RelayMetrics {
  readonly registry = new Registry();
  readonly #webhooks: Counter<'source' | 'outcome'>;
  readonly #accepted: Counter<'source' | 'type'>;
  readonly #processed: Counter<'source' | 'type'>;
  readonly #dropped: Counter<'source' | 'type'>;
  readonly #overflow: Counter;
  readonly #streamEnds: Counter<'stream' | 'reason'>;
  readonly #latency: Record<LatencyKind, Histogram<'source' | 'type'>>;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    this.#webhooks = new Counter({ name: 'relay_webhooks_received_total', help: 'Webhook deliveries by source and outcome (accepted, duplicate or the rejection reason code)', labelNames: ['source', 'outcome'], registers });
    this.#accepted = new Counter({ name: 'relay_events_accepted_total', help: 'Events accepted from webhooks (duplicates excluded)', labelNames: ['source', 'type'], registers });
    this.#processed = new Counter({ name: 'relay_events_processed_total', help: 'Accepted events first delivered to or acked by an agent', labelNames: ['source', 'type'], registers });
    this.#dropped = new Counter({ name: 'relay_events_dropped_total', help: 'Accepted events neither delivered nor acked within RELAY_DROP_DEADLINE_S', labelNames: ['source', 'type'], registers });
    this.#streamEnds = new Counter({ name: 'relay_stream_ends_total', help: 'Push streams (by protocol version) and feeds ended, by reason (client_closed, reader_too_slow, lifetime, shutdown, store_error, internal_error, …)', labelNames: ['stream', 'reason'], registers });
    this.#overflow = new Counter({ name: 'relay_delivery_tracker_overflow_total', help: 'Accepted events not tracked for drops because the tracker was full', registers });
    const histogram = (name: string, help: string) => new Histogram({ name, help, labelNames: ['source', 'type'], buckets: LATENCY_BUCKETS_S, registers });
    this.#latency = {
      delivery: histogram('relay_event_delivery_latency_seconds', "Provider's event time to receipt by the relay"),
      processing: histogram('relay_event_processing_latency_seconds', 'Receipt to first delivery to an agent'),
      ack: histogram('relay_event_ack_latency_seconds', 'Receipt to first ack by an agent'),
    };
    new Gauge({
      name: 'relay_drop_rate',
      help: 'Dropped / due events over RELAY_DROP_WINDOW_S (0 when nothing came due)',
      registers,
      collect() {
        this.set(sources.dropRate() ?? 0);
      },
    });
    new Gauge({
      name: 'relay_drop_alert',
      help: '1 while the drop-rate alert is raised',
      registers,
      collect() {
        this.set(sources.alertRaised() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'relay_delivery_tracker_events',
      help: 'Accepted events currently followed until their drop deadline',
      registers,
      collect() {
        this.set(sources.tracked());
      },
    });
    new Gauge({
      name: 'relay_push_streams',
      help: 'Open events/stream push streams by protocol era',
      labelNames: ['era'],
      registers,
      collect() {
        for (const [era, n] of Object.entries(sources.streams())) this.set({ era }, n);
      },
    });
    new Gauge({
      name: 'relay_listeners',
      help: 'Clients listening for resource updates by protocol era (2025-11-25 sessions with a subscription, 2026-07-28 subscriptions/listen streams)',
      labelNames: ['era'],
      registers,
      collect() {
        for (const [era, n] of Object.entries(sources.listeners())) this.set({ era }, n);
      },
    });
    new Counter({
      name: 'relay_resource_updates_total',
      help: 'notifications/resources/updated sent, one per listener and resource, by protocol era (2025-11-25 sessions, 2026-07-28 subscriptions/listen streams)',
      labelNames: ['era'],
      registers,
      collect() {
        this.reset();
        for (const [era, n] of Object.entries(sources.resourceUpdates())) this.inc({ era }, n);
      },
    });
    new Gauge({
      name: 'relay_log_head_timestamp_seconds',
      help: 'When the newest event id was minted',
      registers,
      async collect() {
        this.reset();
        const head = await sources.head();
        if (head !== null) this.set(ulidTime(head) / 1000);
      },
    });
    new Gauge({
      name: 'relay_log_oldest_timestamp_seconds',
      help: 'When the oldest retained event id was minted: head minus this is the retained span',
      registers,
      async collect() {
        this.reset();
        const oldest = await sources.oldest();
        if (oldest !== null) this.set(ulidTime(oldest) / 1000);
      },
    });
    new Gauge({
      name: 'relay_log_retained_events',
      help: 'Events the log holds (retention has not trimmed)',
      registers,
      async collect() {
        this.set(await sources.retained());
      },
    });
    new Counter({
      name: 'relay_reaction_runs_total',
      help: 'Reaction handler runs by handler and outcome (succeeded, failed, skipped)',
      labelNames: ['handler', 'outcome'],
      registers,
      collect() {
        this.reset();
        for (const run of sources.reactions()) this.inc({ handler: run.handler, outcome: run.outcome }, run.count);
      },
    });
    new Counter({
      name: 'relay_reaction_run_seconds_total',
      help: 'Time spent in reaction handlers by handler and outcome',
      labelNames: ['handler', 'outcome'],
      registers,
      collect() {
        this.reset();
        for (const run of sources.reactions()) this.inc({ handler: run.handler, outcome: run.outcome }, run.totalMs / 1000);
      },
    });
  }

  /** The exposition text of the shared registry, plus the state of `groups` (those the viewer may see). */
  async render(groups: Record<string, GroupCounts>): Promise<string> {
    const scoped = new Registry();
    const gauge = new Gauge({
      name: 'relay_consumer_group_events',
      help: 'Events of each consumer group by state (pending, leased, dead_lettered)',
      labelNames: ['group', 'state'],
      registers: [scoped],
    });
    for (const [group, counts] of Object.entries(groups)) {
      gauge.set({ group, state: 'pending' }, counts.pending);
      gauge.set({ group, state: 'leased' }, counts.leased);
      gauge.set({ group, state: 'dead_lettered' }, counts.deadLettered);
    }
    return Registry.merge([this.registry, scoped]).metrics();
  }

  webhook(source: string, outcome: string): void {
    this.#webhooks.inc({ source, outcome });
  }

  accepted(source: string, type: string): void {
    this.#accepted.inc({ source, type });
  }

  processed(source: string, type: string): void {
    this.#processed.inc({ source, type });
  }

  dropped(source: string, type: string): void {
    this.#dropped.inc({ source, type });
  }

  overflow(): void {
    this.#overflow.inc();
  }

  streamEnded(stream: string, reason: string): void {
    this.#streamEnds.inc({ stream, reason });
  }

  latency(kind: LatencyKind, source: string, type: string, ms: number): void {
    this.#latency[kind].observe({ source, type }, ms / 1000);
  }
}
