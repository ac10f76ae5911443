import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { RequestParams } from 'autocannon';
import { signDelivery } from '../src/ingest/sign.js';
import { stripePaymentFailed } from './stripe-event.js';

export const INGEST_SECRET = 'whsec_bench_ingest';
/** Signatures are renewed when older than this, well inside the relay's 300 s tolerance. */
const RESIGN_AFTER_MS = 120_000;

/**
 * The requests, prepared before any timed run: the bodies once, and their signatures once with
 * a fresh timestamp (again only if a long run makes them 2 minutes old, well inside the relay's
 * 300 s tolerance), so building and signing never run in the client loop.
 */
export class DeliveryPool {
  readonly size: number;
  #bodies: Buffer[] = [];
  #headers: Record<string, string>[] = [];
  #signedAt = Number.NEGATIVE_INFINITY;

  constructor(size: number) {
    this.size = size;
  }

  async build(): Promise<void> {
    this.#bodies = await mapInChunks(Array.from({ length: this.size }), deliveryBody);
  }

  get meanBytes(): number {
    return this.#bodies.reduce((sum, body) => sum + body.length, 0) / this.size;
  }

  async sign(nowMs: number): Promise<void> {
    this.#headers = await mapInChunks(this.#bodies, (body) => ({
      ...signDelivery('stripe', body, { secret: INGEST_SECRET, nowMs }),
      // autocannon sets this key itself; setting it first keeps the objects unchanged.
      'Content-Length': String(body.length),
    }));
    this.#signedAt = nowMs;
  }

  async signIfStale(nowMs: number): Promise<void> {
    if (nowMs - this.#signedAt > RESIGN_AFTER_MS) await this.sign(nowMs);
  }

  delivery(i: number): Delivery {
    return { headers: this.#headers[i % this.size]!, body: this.#bodies[i % this.size]! };
  }

  /** One server's walk through the pool: each server starts at the first delivery. */
  cursor(): Cursor {
    return new Cursor(this);
  }
}

/**
 * `items.map(f)`, yielding to the event loop every 250 items (a few milliseconds). A Ctrl-C must find the
 * loop free: tsx kills this process with SIGKILL when its SIGINT is not handled within 30 ms,
 * and then nothing would stop the servers or delete the temporary files.
 */
async function mapInChunks<T, U>(items: readonly T[], f: (item: T) => U): Promise<U[]> {
  const out: U[] = [];
  for (let i = 0; i < items.length; i++) {
    out.push(f(items[i]!));
    if (i % 250 === 249) await yieldToLoop();
  }
  return out;
}

export interface Delivery {
  headers: Record<string, string>;
  body: Buffer;
}

export class Cursor {
  readonly #pool: DeliveryPool;
  /** Deliveries handed out so far; past the pool's size they repeat. */
  #next = 0;

  constructor(pool: DeliveryPool) {
    this.#pool = pool;
  }

  /** autocannon's `setupRequest`: the next delivery, for whichever connection asks. */
  readonly setup = (request: RequestParams): RequestParams => {
    const { headers, body } = this.#pool.delivery(this.#next++);
    request.headers = headers;
    request.body = body;
    return request;
  };

  get handedOut(): number {
    return this.#next;
  }

  /** True once a delivery has gone out twice, which a relay would rightly call a duplicate. */
  get wrapped(): boolean {
    return this.#next > this.#pool.size;
  }
}

/**
 * A Stripe `payment_intent.payment_failed` as Stripe sends it: the log benchmark's event with
 * the payment intent fields a real one also carries, ~1 KB like the 6a baseline's body.
 */
function deliveryBody(): Buffer {
  const event = stripePaymentFailed();
  const raw = event.raw as { id: string; data: { object: Record<string, unknown> } };
  const object = raw.data.object;
  const n = raw.id.slice(-8);
  raw.data.object = {
    ...object,
    capture_method: 'automatic_async',
    confirmation_method: 'automatic',
    payment_method_types: ['card'],
    latest_charge: `ch_${n}${String(object.id).slice(3, 11)}`,
    description: `Subscription renewal, order ${String((object.metadata as { order_id: string }).order_id)}`,
    receipt_email: `billing+${n}@example.com`,
    statement_descriptor: 'ACME SUBSCRIPTION',
  };
  return Buffer.from(JSON.stringify(raw));
}
