import { z } from 'zod';
import type { Event } from '../src/events/event.js';
import { RecentIds } from './recent-ids.js';

/** One event as the relay POSTs it: the Events draft's occurrence. `webhook-id` is its `eventId`. */
export interface WebhookOccurrence {
  eventId: string;
  /** The event type subscribed to (from this relay: `cx_events`). */
  name: string;
  timestamp: string;
  /** From this relay: the normalized {@link Event}. */
  data: Event;
  /** Every event up to this one was delivered or given up: a watermark to persist. */
  cursor: string | null;
}

/** Events up to `cursor` were not delivered: `retention` removed them, or the relay gave one up (`http_413`, …). */
export interface WebhookGap {
  cursor: string;
  reason: string;
}

/** Why the relay ended (or, with `data.suspended`, suspended until a refresh) the subscription. */
export interface WebhookTermination {
  code: number;
  message: string;
  data?: unknown;
}

/** What a receiver does with each verified delivery; each is awaited before the relay gets its 2xx. */
export interface WebhookCallbacks {
  onEvent(occurrence: WebhookOccurrence): Promise<void> | void;
  onGap?(gap: WebhookGap): Promise<void> | void;
  onTerminated?(error: WebhookTermination): Promise<void> | void;
}

/** An HTTP answer: status and JSON body. */
export interface WebhookAnswer {
  status: number;
  body: Record<string, unknown>;
}

const occurrence = z.looseObject({
  eventId: z.string().min(1),
  name: z.string(),
  timestamp: z.string(),
  data: z.looseObject({}),
  cursor: z.string().nullable().optional(),
});
const verification = z.looseObject({ challenge: z.string() });
const gap = z.looseObject({ cursor: z.string(), reason: z.string() });
const terminated = z.looseObject({ error: z.looseObject({ code: z.number(), message: z.string(), data: z.unknown().optional() }) });
const typed = z.looseObject({ type: z.string().optional() });

/** A delivery's body as the draft shapes it; `undefined` when it is not one. Types a later draft may add are `other`. */
function envelopeOf(json: unknown) {
  const head = typed.safeParse(json);
  if (!head.success) return undefined;
  const as = <K extends string, T>(kind: K, schema: z.ZodType<T>) => {
    const parsed = schema.safeParse(json);
    return parsed.success ? { kind, message: parsed.data } : undefined;
  };
  switch (head.data.type) {
    case undefined:
      return as('occurrence', occurrence);
    case 'verification':
      return as('verification', verification);
    case 'gap':
      return as('gap', gap);
    case 'terminated':
      return as('terminated', terminated);
    default:
      return { kind: 'other' as const, message: undefined };
  }
}

/** A refusal: `status`, and `{"error": reason}`. */
export const refused = (status: number, error: string): WebhookAnswer => ({ status, body: { error } });
const OK: WebhookAnswer = { status: 200, body: {} };

/**
 * The receiving end of one webhook subscription, behind signature verification: echoes
 * verification challenges, and hands occurrences, gaps and terminations to its callbacks
 * one at a time, in the order they arrived. A `webhook-id` handled before (the relay
 * retrying a delivery whose answer it lost) is answered 2xx without calling anything again;
 * one still being handled is answered once that finishes. A callback that throws gets a 500,
 * so the relay retries it.
 */
export class WebhookEndpoint {
  readonly #handled: RecentIds;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(
    /** The HMAC keys deliveries may be signed with (several while a secret is rotated). */
    readonly keys: readonly Buffer[],
    private readonly callbacks: WebhookCallbacks,
    dedupWindow: number,
  ) {
    this.#handled = new RecentIds(dedupWindow);
  }

  /** Answers one delivery whose signature was verified. */
  async deliver(webhookId: string, raw: Buffer): Promise<WebhookAnswer> {
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      return refused(400, 'invalid_json');
    }
    const envelope = envelopeOf(json);
    if (envelope === undefined) return refused(400, 'invalid_envelope');
    if (envelope.kind === 'verification') return { status: 200, body: { challenge: envelope.message.challenge } };
    return this.serialize(async () => {
      if (this.#handled.has(webhookId)) return OK;
      try {
        if (envelope.kind === 'occurrence') {
          const { eventId, name, timestamp, data, cursor } = envelope.message;
          await this.callbacks.onEvent({ eventId, name, timestamp, data: data as unknown as Event, cursor: cursor ?? null });
        } else if (envelope.kind === 'gap') await this.callbacks.onGap?.({ cursor: envelope.message.cursor, reason: envelope.message.reason });
        else if (envelope.kind === 'terminated') await this.callbacks.onTerminated?.(envelope.message.error);
      } catch {
        return refused(500, 'handler_failed');
      }
      this.#handled.add(webhookId);
      return OK;
    });
  }

  /** Runs `work` after every delivery (and other work) queued before it. */
  serialize<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(work);
    this.#queue = next.catch(() => undefined);
    return next;
  }
}

/** What `createWebhookReceiver` takes: the callbacks, the secret(s), and the bounds of its checks. */
export interface WebhookReceiverOptions extends WebhookCallbacks {
  /**
   * The subscription's signing secret (`whsec_…`), or several while one is rotated: a
   * delivery signed by any of them is accepted. The first is the one to register.
   */
  secret: string | string[];
  /** How far a delivery's `webhook-timestamp` may be from this clock, either way. Default 300. */
  toleranceSeconds?: number;
  /** How many recent `webhook-id`s are remembered to answer redeliveries without handling them again. Default 1 000. */
  dedupWindow?: number;
}
