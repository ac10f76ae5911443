import { randomUUID } from 'node:crypto';
import type { EventLog } from '../../src/log/event-log.js';
import { signDelivery } from '../../src/ingest/sign.js';
import { testSecrets } from '../support/relay.js';
import type { Delivery, Model } from './model.js';
import { Prng } from './prng.js';
import { normalizedType, SENT_TYPES } from './schedule.js';

const ANSWER_MS = 15_000;

export interface SenderStats {
  sent: number;
  retries: number;
  unknown: number;
  resolvedFromStore: number;
  refused: number;
}

/**
 * Signed Standard Webhooks deliveries to `POST /webhooks/standard`. The model learns each
 * committed id from the 2xx answer; a request that failed without one (the relay died, or a
 * pooled connection to the dead relay was reused) has an unknown outcome until
 * {@link resolveUnknown} finds it in the store or retries it, as a provider would.
 */
export class WebhookSender {
  readonly stats: SenderStats = { sent: 0, retries: 0, unknown: 0, resolvedFromStore: 0, refused: 0 };
  readonly #attempts = new Map<string, number>();

  constructor(
    private readonly model: Model,
    private readonly url: string,
  ) {}

  /** `count` fresh deliveries by `concurrency` senders. */
  async sendFresh(count: number, concurrency: number, padding: number, salt: number): Promise<void> {
    const rng = new Prng(salt);
    const deliveries: Delivery[] = [];
    for (let i = 0; i < count; i++) {
      const sent = rng.pick(SENT_TYPES);
      const data = { customer_id: `cus_${rng.int(1, 5)}`, note: 'x'.repeat(padding) };
      const rawBody = Buffer.from(JSON.stringify({ type: sent, timestamp: new Date().toISOString(), data }));
      const delivery: Delivery = { webhookId: `msg_${randomUUID()}`, type: normalizedType(sent), rawBody, outcome: 'sending' };
      this.model.addDelivery(delivery);
      deliveries.push(delivery);
    }
    await inParallel(deliveries, concurrency, (d) => this.post(d, 'answer'));
  }

  /** Deliveries sent before (committed, unknown or still in flight), sent again at once. */
  async sendDuplicates(count: number, salt: number): Promise<void> {
    const candidates = this.model.deliveries.filter((d) => d.outcome !== 'refused');
    if (candidates.length === 0) return;
    const rng = new Prng(salt);
    const picked = Array.from({ length: count }, () => rng.pick(candidates));
    await Promise.all(picked.map((d) => this.post(d, 'duplicate')));
  }

  /**
   * Settles every unknown outcome: an event of the delivery in the store is its commit; one
   * not there (never committed, or already trimmed) is delivered again, and the relay's
   * dedup answers which it was. No request of these deliveries may be in flight.
   */
  async resolveUnknown(store: EventLog): Promise<void> {
    const open = this.model.unresolved();
    if (open.length === 0) return;
    const found = new Map<string, string>();
    let after: string | null = null;
    for (let page = 0; page < 1000; page++) {
      const read = await store.read({ after, limit: 10_000 });
      for (const event of read.events) if (event.source === 'standard') found.set(event.sourceEventId, event.id);
      if (!read.hasMore || read.cursor === null) break;
      after = read.cursor;
    }
    for (const delivery of open) {
      const id = found.get(delivery.webhookId);
      if (id === undefined) continue;
      this.model.commit(delivery, id, 'store');
      this.stats.resolvedFromStore++;
    }
    await Promise.all(this.model.unresolved().map((d) => this.post(d, 'retry')));
  }

  async post(delivery: Delivery, how: 'answer' | 'duplicate' | 'retry'): Promise<void> {
    this.#attempts.set(delivery.webhookId, (this.#attempts.get(delivery.webhookId) ?? 0) + 1);
    if (how === 'answer') this.stats.sent++;
    else this.stats.retries++;
    const wasCommitted = delivery.outcome === 'committed';
    const headers = signDelivery('standard', delivery.rawBody, {
      secret: testSecrets.standard,
      nowMs: Date.now(),
      headers: { 'webhook-id': delivery.webhookId },
    });
    let status: number;
    let body: { id?: unknown; duplicate?: unknown };
    try {
      const res = await fetch(`${this.url}/webhooks/standard`, { method: 'POST', headers, body: delivery.rawBody, signal: AbortSignal.timeout(ANSWER_MS) });
      status = res.status;
      body = (await res.json()) as typeof body;
    } catch {
      if (delivery.outcome !== 'committed') {
        delivery.outcome = 'unknown';
        this.stats.unknown++;
      }
      return;
    }
    if (status === 503) {
      // The commit failed: by the contract nothing was committed.
      if (delivery.outcome === 'sending') delivery.outcome = 'refused';
      this.stats.refused++;
      return;
    }
    if (status !== 200 || typeof body.id !== 'string') {
      this.model.ingestFailures.push(`${how} of webhook ${delivery.webhookId}: ${status} ${JSON.stringify(body)}`);
      return;
    }
    if (body.duplicate === false && wasCommitted) {
      this.model.ingestFailures.push(`${how} of webhook ${delivery.webhookId}, committed as ${delivery.id}, was committed again as ${body.id}`);
    }
    // Only when no other attempt of the same delivery was made meanwhile (a racing duplicate may commit first).
    if (body.duplicate === true && this.#attempts.get(delivery.webhookId) === 1) {
      this.model.ingestFailures.push(`first delivery of webhook ${delivery.webhookId} was answered as a duplicate of ${body.id}`);
    }
    this.model.commit(delivery, body.id, how);
  }
}

/** Runs `work` over `items` with at most `limit` at a time. */
export async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
}
