import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Webhook subscriptions by state, read from the store on each scrape. */
export type SubscriptionCounts = () => Promise<{ active: number; suspended: number }>;

/** What one callback attempt came to (outbound delivery's `AttemptResult`, as far as it is counted). */
export interface AttemptOutcome {
  outcome: 'delivered' | 'gone' | 'too_large' | 'failed';
  reason?: string;
}

/** Totals since start, for `/status` and the dashboard. */
export interface CallbackTotals {
  attempts: number;
  delivered: number;
  abandoned: number;
  /** Failed attempts by category (`connection_refused`, `timeout`, `http_5xx`, `http_410`, …). */
  failures: Record<string, number>;
  /** Subscriptions whose delivery stopped, by reason (`gone`, `suspended`, `expired`). */
  ends: Record<string, number>;
}

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

/**
 * Outbound webhook delivery as numbers: attempts and failures by category, events delivered
 * and abandoned, the latency from the relay's commit to the subscriber's 2xx, subscriptions
 * that ended; and, on each scrape, subscriptions by state. A delivered event also counts as
 * delivered to an agent for the drop rate.
 */
export class CallbackStats {
  readonly #attempts: Counter<'result'>;
  readonly #deliveries: Counter<'result'>;
  readonly #ends: Counter<'reason'>;
  readonly #latency: Histogram;
  readonly #totals: CallbackTotals = { attempts: 0, delivered: 0, abandoned: 0, failures: {}, ends: {} };
  #subscriptions: SubscriptionCounts = async () => ({ active: 0, suspended: 0 });

  constructor(
    registry: Registry,
    private readonly tracker: { delivered(eventId: string): void },
  ) {
    const registers = [registry];
    this.#attempts = new Counter({ name: 'relay_callback_attempts_total', help: 'Webhook callback attempts by result (delivered, or the failure category)', labelNames: ['result'], registers });
    this.#deliveries = new Counter({ name: 'relay_callback_events_total', help: 'Events given to webhook subscribers (delivered) or given up after their attempts (abandoned)', labelNames: ['result'], registers });
    this.#ends = new Counter({ name: 'relay_callback_subscription_ends_total', help: 'Webhook subscriptions whose delivery stopped, by reason (gone, suspended, expired)', labelNames: ['reason'], registers });
    this.#latency = new Histogram({ name: 'relay_callback_latency_seconds', help: "Relay commit to the subscriber's 2xx", buckets: SECONDS, registers });
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
    this.#totals.attempts += 1;
    if (label !== 'delivered') this.#totals.failures[label] = (this.#totals.failures[label] ?? 0) + 1;
  }

  delivered(eventId: string, latencyMs: number): void {
    this.#deliveries.inc({ result: 'delivered' });
    this.#latency.observe(Math.max(0, latencyMs) / 1000);
    this.#totals.delivered += 1;
    this.tracker.delivered(eventId);
  }

  abandoned(_reason: string): void {
    this.#deliveries.inc({ result: 'abandoned' });
    this.#totals.abandoned += 1;
  }

  ended(reason: string): void {
    this.#ends.inc({ reason });
    this.#totals.ends[reason] = (this.#totals.ends[reason] ?? 0) + 1;
  }

  totals(): CallbackTotals {
    return structuredClone(this.#totals);
  }

  subscriptions(): Promise<{ active: number; suspended: number }> {
    return this.#subscriptions();
  }
}
