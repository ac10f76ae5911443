import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { LatencyBins } from './latency-bins.js';
import { LATENCY_BUCKETS_S } from './metrics.js';
import { historyRings, type RingBucket, windowOf } from './time-rings.js';

/** Webhook subscriptions by state, read from the store on each scrape. */
export type SubscriptionCounts = () => Promise<{ active: number; suspended: number }>;

/** What one callback attempt came to (outbound delivery's `AttemptResult`, as far as it is counted). */
export interface AttemptOutcome {
  outcome: 'delivered' | 'gone' | 'too_large' | 'failed';
  reason?: string;
}

/** Outbound delivery over a window, for `/status` and the dashboard. */
export interface CallbackWindow {
  attempts: number;
  delivered: number;
  abandoned: number;
  /** Failed attempts by category (`connection_refused`, `timeout`, `http_5xx`, `http_410`, …). */
  failures: Record<string, number>;
  /** Subscriptions whose delivery stopped, by reason (`gone`, `suspended`, `expired`). */
  ended: Record<string, number>;
  /** Relay commit to the subscriber's 2xx, in ms, of the events delivered in the window. */
  latency: LatencyBins;
}

class CallbackBucket implements RingBucket {
  index = -1;
  attempts = 0;
  delivered = 0;
  abandoned = 0;
  readonly failures = new Map<string, number>();
  readonly ended = new Map<string, number>();
  latency: LatencyBins | null = null;

  reset(index: number): void {
    this.index = index;
    this.attempts = this.delivered = this.abandoned = 0;
    this.failures.clear();
    this.ended.clear();
    this.latency = null;
  }
}

function addTo(counts: Record<string, number>, from: ReadonlyMap<string, number>): void {
  for (const [key, n] of from) counts[key] = (counts[key] ?? 0) + n;
}

/**
 * Outbound webhook delivery as numbers: attempts and failures by category, events delivered
 * and abandoned, the latency from the relay's commit to the subscriber's 2xx, subscriptions
 * that ended; and, on each scrape, subscriptions by state. Each is a Prometheus metric, and
 * kept in time buckets (the rings of `WindowedStats`) so `/status` can report any window. A
 * delivered event also counts as delivered to an agent for the drop rate.
 */
export class CallbackStats {
  readonly #attempts: Counter<'result'>;
  readonly #deliveries: Counter<'result'>;
  readonly #ends: Counter<'reason'>;
  readonly #latency: Histogram;
  readonly #rings = historyRings(() => new CallbackBucket());
  #subscriptions: SubscriptionCounts = async () => ({ active: 0, suspended: 0 });

  /** `now`: the clock the time buckets are kept by (the wall clock; tests pass their own). */
  constructor(
    registry: Registry,
    private readonly tracker: { delivered(eventId: string): void },
    private readonly now: () => number = Date.now,
  ) {
    const registers = [registry];
    this.#attempts = new Counter({ name: 'relay_callback_attempts_total', help: 'Webhook callback attempts by result (delivered, or the failure category)', labelNames: ['result'], registers });
    this.#deliveries = new Counter({ name: 'relay_callback_events_total', help: 'Events given to webhook subscribers (delivered) or given up after their attempts (abandoned)', labelNames: ['result'], registers });
    this.#ends = new Counter({ name: 'relay_callback_subscription_ends_total', help: 'Webhook subscriptions whose delivery stopped, by reason (gone, suspended, expired)', labelNames: ['reason'], registers });
    this.#latency = new Histogram({ name: 'relay_callback_latency_seconds', help: "Relay commit to the subscriber's 2xx", buckets: LATENCY_BUCKETS_S, registers });
    const counts = () => this.#subscriptions();
    new Gauge({
      name: 'relay_callback_subscriptions',
      help: 'Webhook subscriptions by state (active, suspended)',
      labelNames: ['state'],
      registers,
      async collect() {
        const { active, suspended } = await counts();
        this.set({ state: 'active' }, active);
        this.set({ state: 'suspended' }, suspended);
      },
    });
  }

  /** Where the subscription counts come from (the subscription store, opened after this). */
  watchSubscriptions(counts: SubscriptionCounts): void {
    this.#subscriptions = counts;
  }

  attempt(result: AttemptOutcome): void {
    const label = result.outcome === 'delivered' ? 'delivered' : result.outcome === 'failed' ? (result.reason ?? 'failed') : result.outcome === 'gone' ? 'http_410' : 'http_413';
    this.#attempts.inc({ result: label });
    for (const bucket of this.#buckets()) {
      bucket.attempts++;
      if (label !== 'delivered') bucket.failures.set(label, (bucket.failures.get(label) ?? 0) + 1);
    }
  }

  delivered(eventId: string, latencyMs: number): void {
    const ms = Math.max(0, latencyMs);
    this.#deliveries.inc({ result: 'delivered' });
    this.#latency.observe(ms / 1000);
    for (const bucket of this.#buckets()) {
      bucket.delivered++;
      (bucket.latency ??= new LatencyBins()).record(ms);
    }
    this.tracker.delivered(eventId);
  }

  abandoned(_reason: string): void {
    this.#deliveries.inc({ result: 'abandoned' });
    for (const bucket of this.#buckets()) bucket.abandoned++;
  }

  ended(reason: string): void {
    this.#ends.inc({ reason });
    for (const bucket of this.#buckets()) bucket.ended.set(reason, (bucket.ended.get(reason) ?? 0) + 1);
  }

  /** What happened in the last `windowMs` before `now`. */
  window(windowMs: number, now: number): CallbackWindow {
    const out: CallbackWindow = { attempts: 0, delivered: 0, abandoned: 0, failures: {}, ended: {}, latency: new LatencyBins() };
    for (const bucket of windowOf(this.#rings, windowMs, now).buckets) {
      if (!bucket) continue;
      out.attempts += bucket.attempts;
      out.delivered += bucket.delivered;
      out.abandoned += bucket.abandoned;
      addTo(out.failures, bucket.failures);
      addTo(out.ended, bucket.ended);
      if (bucket.latency) out.latency.add(bucket.latency);
    }
    return out;
  }

  /** Subscriptions by state now, relay-wide: every principal's. */
  subscriptions(): Promise<{ active: number; suspended: number }> {
    return this.#subscriptions();
  }

  /** The current bucket of every ring. */
  #buckets(): CallbackBucket[] {
    const t = this.now();
    return this.#rings.map((ring) => ring.write(t));
  }
}
