import type { Event } from '../events/event.js';
import { isCatalogueType } from '../events/catalogue.js';
import type { EventLog, GroupCounts } from '../log/event-log.js';
import { CallbackStats } from './callback-stats.js';
import { DeliveryTracker, type TrackedEvent } from './delivery-tracker.js';
import { DropAlert } from './drop-alert.js';
import type { Logger } from './logger.js';
import { RelayMetrics, type RunTotals } from './metrics.js';
import { ERA_VERSIONS, type StreamEra, StreamStats } from './stream-stats.js';
import { type ReactionOutcome, WindowedStats } from './windowed-stats.js';

/** The label every webhook route that is not a configured source shares. */
export const UNKNOWN_SOURCE = '_unknown';
/** Consumer groups reported at most (groups are named by principals; this keeps labels bounded). */
const MAX_REPORTED_GROUPS = 100;
/** Accepted events followed at once for the drop rate; the rest are counted as overflow. */
export const DEFAULT_MAX_TRACKED = 100_000;

export interface ObservabilityOptions {
  log: EventLog;
  logger: Logger;
  /** Configured webhook sources: the only source label values besides `_unknown`. */
  sources: Iterable<string>;
  /** The consumer group names agents use (the MCP group registry). */
  groups: { names(): Iterable<string> };
  dropDeadlineMs: number;
  dropWindowMs: number;
  dropAlert: number;
  maxTracked?: number;
  now?: () => number;
}

/** Where the reactions' handler runs are counted (the reactions' `RunRecorder`): totals, and each run as it ends. */
export interface RunSource {
  totals(): RunTotals[];
  /** Calls `listener` after every run; returns the unsubscribe function. */
  onRun(listener: (run: { handler: string; outcome: ReactionOutcome }) => void): () => void;
}

/** Where resource-update listeners and the updates sent to them are counted (the MCP endpoint). */
export interface ListenerSource {
  listeners(): Record<StreamEra, number>;
  resourceUpdates(): Record<StreamEra, number>;
}

/** Which consumer groups a viewer of `/metrics` or `/status` may see. */
export type GroupVisibility = (group: string) => boolean;

/**
 * The relay's observability, wired once: webhook outcomes and deliveries feed the Prometheus
 * metrics and the windowed history behind `/status`; a sweep settles drop deadlines and
 * evaluates the alert.
 */
export class Observability {
  readonly stats = new WindowedStats();
  readonly metrics: RelayMetrics;
  readonly tracker: DeliveryTracker;
  readonly alert: DropAlert;
  readonly streams: StreamStats;
  /** Outbound webhook delivery (`events/subscribe`). */
  readonly callbacks: CallbackStats;
  readonly log: EventLog;
  readonly deadlineMs: number;
  readonly threshold: number;
  readonly now: () => number;
  readonly #sources: ReadonlySet<string>;
  readonly #groups: { names(): Iterable<string> };
  readonly #logger: Logger;
  #reactions: { runs: RunSource; group: string; unsubscribe: () => void } | null = null;
  #listeners: ListenerSource = { listeners: () => ({ legacy: 0, modern: 0 }), resourceUpdates: () => ({ legacy: 0, modern: 0 }) };
  #sweep: NodeJS.Timeout | null = null;
  #evaluating: Promise<void> = Promise.resolve();

  constructor(options: ObservabilityOptions) {
    this.log = options.log;
    this.now = options.now ?? Date.now;
    this.deadlineMs = options.dropDeadlineMs;
    this.threshold = options.dropAlert;
    this.#sources = new Set(options.sources);
    this.#groups = options.groups;
    this.#logger = options.logger;
    this.streams = new StreamStats(options.logger, (stream, reason) => this.metrics.streamEnded(stream, reason));
    this.alert = new DropAlert({ stats: this.stats, log: options.log, logger: options.logger, threshold: options.dropAlert, windowMs: options.dropWindowMs, now: this.now });
    this.tracker = new DeliveryTracker({ deadlineMs: options.dropDeadlineMs, maxTracked: options.maxTracked ?? DEFAULT_MAX_TRACKED, now: this.now, sink: this.#sink() });
    const dropWindowMs = options.dropWindowMs;
    this.metrics = new RelayMetrics({
      streams: () => this.streams.byEra(),
      listeners: () => this.listeners(),
      resourceUpdates: () => byVersion(this.#listeners.resourceUpdates()),
      head: () => this.log.head(),
      oldest: async () => (await this.log.read({ after: null, limit: 1 })).events[0]?.id ?? null,
      retained: () => this.log.retained(),
      dropRate: () => {
        const window = this.stats.dropWindow(dropWindowMs, this.now());
        return window.due === 0 ? null : window.dropped / window.due;
      },
      alertRaised: () => this.alert.current !== null,
      tracked: () => this.tracker.size,
      reactions: () => this.reactionTotals(),
    });
    this.callbacks = new CallbackStats(this.metrics.registry, this.tracker);
  }

  /** Settles drop deadlines and evaluates the alert every `intervalMs` until {@link close}. */
  start(intervalMs = Math.min(1000, Math.max(50, this.deadlineMs / 4))): void {
    this.#sweep = setInterval(() => {
      if (this.tracker.sweep() === 0 && this.alert.current === null) return;
      this.#evaluating = this.#evaluating.then(() => this.alert.evaluate()).catch((error: unknown) => this.#logger.error({ err: error }, 'drop alert evaluation failed'));
    }, intervalMs);
    this.#sweep.unref();
  }

  async close(): Promise<void> {
    if (this.#sweep) clearInterval(this.#sweep);
    this.#reactions?.unsubscribe();
    await this.#evaluating;
  }

  /** One webhook answered: `outcome` is `accepted`, `duplicate` or the rejection reason code. */
  webhook(source: string, outcome: string, event: Event | null): void {
    const label = this.#sources.has(source) ? source : UNKNOWN_SOURCE;
    const t = this.now();
    this.metrics.webhook(label, outcome);
    this.stats.webhook(label, outcome, t);
    if (outcome !== 'accepted' || !event) return;
    const type = isCatalogueType(event.type) ? event.type : 'other';
    const receivedAt = Date.parse(event.receivedAt);
    const deliveryMs = Math.max(0, receivedAt - Date.parse(event.occurredAt));
    this.metrics.accepted(label, type);
    this.metrics.latency('delivery', label, type, deliveryMs);
    this.stats.latency('delivery', deliveryMs, t);
    this.tracker.accepted(event.id, label, type, receivedAt);
  }

  /** Counts the reactions' runs (their recorder stays the one count) and their consumer group. */
  watchReactions(runs: RunSource, group: string): void {
    const unsubscribe = runs.onRun((run) => this.stats.reaction(run.handler, run.outcome, this.now()));
    this.#reactions = { runs, group, unsubscribe };
  }

  /** Where resource-update listeners are counted (the MCP endpoint, built after this). */
  watchListeners(source: ListenerSource): void {
    this.#listeners = source;
  }

  /** Resource-update listeners keyed by protocol version. */
  listeners(): Record<string, number> {
    return byVersion(this.#listeners.listeners());
  }

  reactionTotals(): RunTotals[] {
    return this.#reactions?.runs.totals() ?? [];
  }

  /** Pending, leased and dead-lettered per known group the viewer may see (read from the log on demand). */
  async groups(visible: GroupVisibility): Promise<Record<string, GroupCounts>> {
    const names = [...this.#groups.names()].filter(visible).sort().slice(0, MAX_REPORTED_GROUPS);
    if (this.#reactions && visible(this.#reactions.group)) names.push(this.#reactions.group);
    const out: Record<string, GroupCounts> = {};
    for (const name of names) out[name] = await this.log.pending(name);
    return out;
  }

  /** `/metrics` for a viewer: the relay's metrics and the groups it may see. */
  async metricsText(visible: GroupVisibility): Promise<string> {
    return this.metrics.render(await this.groups(visible));
  }

  #sink() {
    return {
      processed: (event: TrackedEvent, latencyMs: number, t: number) => {
        this.metrics.processed(event.source, event.type);
        this.metrics.latency('processing', event.source, event.type, latencyMs);
        this.stats.processed(t);
        this.stats.latency('processing', latencyMs, t);
      },
      acked: (event: TrackedEvent, latencyMs: number, t: number) => {
        this.metrics.latency('ack', event.source, event.type, latencyMs);
        this.stats.latency('ack', latencyMs, t);
      },
      due: (event: TrackedEvent, dropped: boolean) => {
        if (dropped) {
          this.metrics.dropped(event.source, event.type);
          this.#logger.debug({ source: event.source, type: event.type, deadlineS: this.deadlineMs / 1000 }, 'event dropped: not delivered before its deadline');
        }
        this.stats.due(event.source, event.type, dropped, event.deadline);
      },
      overflow: () => this.metrics.overflow(),
    };
  }
}

function byVersion(count: Record<StreamEra, number>): Record<string, number> {
  return { [ERA_VERSIONS.legacy]: count.legacy, [ERA_VERSIONS.modern]: count.modern };
}
