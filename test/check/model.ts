/**
 * The reference model: what the log must hold, learned only from the outside — the ids the
 * relay named in its 2xx answers (or, for an answer lost to a crash, found in the store
 * afterwards) and the retention floor the checker itself applied. Readers' observations are
 * judged against it once the schedule has run.
 */

/** The cursor before every event (the relay's `LOG_START`). */
export const LOG_START = '0'.repeat(26);

export interface CommittedEvent {
  id: string;
  /** The normalized type, as readers see it. */
  type: string;
  webhookId: string;
}

export interface Delivery {
  webhookId: string;
  /** The normalized type the relay will give it. */
  type: string;
  rawBody: Buffer;
  /** `unknown`: the request failed without an answer (the relay died); resolved from the store. */
  outcome: 'sending' | 'committed' | 'unknown' | 'refused';
  id?: string;
}

/**
 * One retention run: every id below `below` (the oldest event left right after it), or
 * through `through` (the head, when nothing was left), was removed. `startedAt` bounds what
 * a reader could have been told: a gap received before a trim started cannot be its doing.
 */
export interface TrimRecord {
  startedAt: number;
  below?: string;
  through?: string;
  keep: number;
}

export class Model {
  readonly #events = new Map<string, CommittedEvent>();
  #sorted: CommittedEvent[] | undefined;
  readonly deliveries: Delivery[] = [];
  readonly #byWebhook = new Map<string, Delivery>();
  readonly trims: TrimRecord[] = [];
  /** Answers that contradict the model (a duplicate naming another id, an unknown id). */
  readonly ingestFailures: string[] = [];

  addDelivery(delivery: Delivery): void {
    this.deliveries.push(delivery);
    this.#byWebhook.set(delivery.webhookId, delivery);
  }

  delivery(webhookId: string): Delivery | undefined {
    return this.#byWebhook.get(webhookId);
  }

  /** The relay named `id` for this delivery (first answer, a duplicate's answer, or the store). */
  commit(delivery: Delivery, id: string, how: string): void {
    if (delivery.id !== undefined && delivery.id !== id) {
      this.ingestFailures.push(`${how}: webhook ${delivery.webhookId} was committed as ${delivery.id}, now answered as ${id}`);
      return;
    }
    const existing = this.#events.get(id);
    if (existing && existing.webhookId !== delivery.webhookId) {
      this.ingestFailures.push(`${how}: id ${id} was given to webhook ${existing.webhookId} and to ${delivery.webhookId}`);
      return;
    }
    delivery.id = id;
    delivery.outcome = 'committed';
    if (!existing) {
      this.#events.set(id, { id, type: delivery.type, webhookId: delivery.webhookId });
      this.#sorted = undefined;
    }
  }

  event(id: string): CommittedEvent | undefined {
    return this.#events.get(id);
  }

  /** Every committed event in log order. */
  sorted(): CommittedEvent[] {
    this.#sorted ??= [...this.#events.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return this.#sorted;
  }

  get size(): number {
    return this.#events.size;
  }

  head(): string {
    const all = this.sorted();
    return all[all.length - 1]?.id ?? LOG_START;
  }

  /** Committed events in (after, through], in order (binary search: readers are walked often). */
  between(after: string, through: string): CommittedEvent[] {
    const all = this.sorted();
    let lo = 0;
    let hi = all.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (all[mid]!.id <= after) lo = mid + 1;
      else hi = mid;
    }
    const out: CommittedEvent[] = [];
    for (let i = lo; i < all.length && all[i]!.id <= through; i++) out.push(all[i]!);
    return out;
  }

  /** Whether retention removed `id` by a run that started before `before` (ms, checker clock). */
  isTrimmed(id: string, before = Number.POSITIVE_INFINITY): boolean {
    return this.trims.some((t) => t.startedAt < before && ((t.below !== undefined && id < t.below) || (t.through !== undefined && id <= t.through)));
  }

  /** Deliveries whose outcome is still open. */
  unresolved(): Delivery[] {
    return this.deliveries.filter((d) => d.outcome === 'unknown');
  }
}
