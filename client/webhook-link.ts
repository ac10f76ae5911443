import { ProtocolError } from '@modelcontextprotocol/client';
import { isPermanent } from './connection.js';
import type { Delivery } from './delivery.js';
import type { SubscriptionError } from './subscription-error.js';
import { type WebhookCallbacks, WebhookEndpoint } from './webhook-endpoint.js';
import { webhookSecretKey } from './webhook-signature.js';

/** What the relay says of a webhook subscription's deliveries (`events/subscribe`'s `deliveryStatus`). */
export interface WebhookDeliveryStatus {
  active: boolean;
  lastDeliveryAt: string | null;
  lastError: string | null;
  /** Every delivery attempt has failed since then. */
  failedSince?: string;
  throttled?: boolean;
  retryAfterMs?: number;
}

/** A webhook subscription as the relay last answered `events/subscribe`. */
export interface WebhookState {
  id: string;
  /** The grant's end: the client subscribes again before it. `null`: no expiry. */
  refreshBefore: string | null;
  deliveryStatus: WebhookDeliveryStatus;
}

/**
 * One webhook subscription's end of the client: the endpoint the client's handler routes
 * its deliveries to (each event through the subscription's {@link Delivery}), and the wait
 * between refreshes, which a suspension cuts short and a permanent termination ends.
 */
export class WebhookLink {
  readonly endpoint: WebhookEndpoint;
  state: WebhookState | undefined;
  #refreshNow = false;
  #failure: unknown;
  #wake: (() => void) | undefined;

  constructor(
    readonly callbackUrl: string,
    readonly secret: string,
    delivery: Delivery,
    report: (error: SubscriptionError) => void,
    dedupWindow: number,
  ) {
    const callbacks: WebhookCallbacks = {
      onEvent: async (occurrence) => {
        if (await delivery.handle(occurrence.data, occurrence.eventId)) await delivery.advance(occurrence.cursor);
      },
      onGap: async (gap) => {
        report({ kind: 'truncated', after: delivery.cursor, resumedAt: gap.cursor, reason: gap.reason });
        await delivery.advance(gap.cursor);
      },
      onTerminated: (error) => {
        const reason = ProtocolError.fromError(error.code, error.message, error.data);
        if (isPermanent(reason)) this.#failure ??= reason;
        else {
          // Suspended after sustained failure: a refresh reactivates it from the relay's watermark.
          report({ kind: 'connection', attempt: 1, delayMs: 0, cause: reason });
          this.#refreshNow = true;
        }
        this.#wake?.();
      },
    };
    this.endpoint = new WebhookEndpoint([webhookSecretKey(secret)!], callbacks, dedupWindow);
  }

  /** Resolves after `ms`, or at once when a refresh is due or the subscription stopped; throws the termination that ends it. */
  async wait(ms: number, signal: AbortSignal): Promise<void> {
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      this.#wake = done;
      if (this.#refreshNow || this.#failure !== undefined || signal.aborted) done();
    });
    this.#refreshNow = false;
    if (this.#failure !== undefined) throw this.#failure;
  }
}
