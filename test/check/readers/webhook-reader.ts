import { CallbackReceiver } from '../../support/callback-receiver.js';
import type { ReaderKind } from '../schedule.js';
import { modernRequest } from './push-readers.js';
import { Reader, type Observation, type ReaderContext } from './reader.js';

const SUBSCRIPTION_NAME = 'cx_events';
const SUBSCRIBE_MS = 15_000;

/** A delivery the receiver took (2xx) while the subscribe answer was still awaited, and when. */
interface Taken {
  body: Record<string, any>;
  webhookId: string;
  at: number;
}

/**
 * An `events/subscribe` webhook subscription and its receiver on loopback
 * (`CallbackReceiver`: Standard Webhooks verification by the `standardwebhooks` library,
 * challenge echo). The receiver keeps what an idempotent one would: each `webhook-id` once —
 * a repeat is a redelivery — and checks each occurrence names itself (`webhook-id`, `eventId`
 * and `cursor` all its log id). Faults are the receiver's: {@link refuse} closes its listener,
 * {@link reject} answers 5xx; pausing refuses until resumed. The subscribe request is retried
 * until it succeeds, outside those spells (each try may cost an endpoint verification).
 */
export class WebhookReader extends Reader {
  override readonly namesPositions = false;
  readonly #receiver = new CallbackReceiver();
  #subscription: string | undefined;
  /** The last refusal of `events/subscribe`, for the report when it never succeeded. */
  #refusal: string | undefined;
  /** Deliveries taken while the subscribe answer is awaited: its `truncated` comes first. */
  #held: Taken[] | undefined;
  readonly #seen = new Set<string>();
  #abort: AbortController | undefined;
  #port = 0;
  #listening = false;
  #listener: Promise<void> = Promise.resolve();
  #refuseUntil = 0;
  #rejectUntil = 0;
  #rejectStatus = 503;
  readonly #timers = new Set<NodeJS.Timeout>();
  #finished = false;

  constructor(slot: number, kind: ReaderKind, filter: readonly string[] | null, start: string, context: ReaderContext) {
    super(slot, kind, filter, start, context);
    this.#receiver.script = ({ body, webhookId }) => this.#answer(body, webhookId);
  }

  /** The receiver's listener is closed for `ms`: the relay's connections are refused. */
  refuse(ms: number): void {
    this.#refuseUntil = Math.max(this.#refuseUntil, Date.now() + ms);
    this.#reconcileLater(ms);
  }

  /** The receiver answers `status` to every POST for `ms`. */
  reject(ms: number, status: number): void {
    this.#rejectUntil = Math.max(this.#rejectUntil, Date.now() + ms);
    this.#rejectStatus = status;
  }

  cut(): void {
    this.#abort?.abort();
  }

  protected onPause(): void {
    this.#refuseUntil = Number.POSITIVE_INFINITY;
    void this.#reconcile();
  }

  /** Ends every spell of failure at once. */
  protected onResume(): void {
    this.#refuseUntil = 0;
    this.#rejectUntil = 0;
    void this.#reconcile();
  }

  override async close(ms?: number): Promise<boolean> {
    const stopped = await super.close(ms);
    for (const timer of this.#timers) clearTimeout(timer);
    await this.#reconcile();
    if (!this.#finished) {
      this.#finished = true;
      if (this.#subscription === undefined) this.#violation(`never subscribed in ${this.connections} tries; the last answer: ${this.#refusal ?? 'none'}`);
      for (const raw of this.#receiver.unverified.slice(0, 3)) this.#violation(`a POST that fails Standard Webhooks verification: ${raw.slice(0, 160)}`);
      const foreign = this.#receiver.deliveries.items.filter((d) => d.body.type !== 'verification' && d.subscriptionId !== this.#subscription);
      if (foreign.length > 0) this.#violation(`${foreign.length} deliveries name subscription ${foreign[0]!.subscriptionId}, not ${this.#subscription}`);
    }
    return stopped;
  }

  /** Never goes back: a gap sent again after a restart does not move what the receiver holds. */
  protected override record(o: Observation): void {
    const before = this.position;
    super.record(o);
    if (this.position < before) this.position = before;
  }

  protected async connectOnce(): Promise<void> {
    if (this.#port === 0) await this.#reconcile();
    if (this.#subscription !== undefined) return this.sleep(60_000);
    const failingFor = Math.max(this.#refuseUntil, this.#rejectUntil) - Date.now();
    if (failingFor > 0) return this.sleep(failingFor);
    await this.#subscribe();
  }

  async #subscribe(): Promise<void> {
    if (this.closed) return;
    this.opened();
    const abort = new AbortController();
    this.#abort = abort;
    this.#held = [];
    const params = {
      name: SUBSCRIPTION_NAME,
      ...(this.filter ? { arguments: { types: [...this.filter] } } : {}),
      delivery: { mode: 'webhook', url: this.#receiver.url, secret: this.#receiver.secret },
      cursor: this.position,
    };
    let answer;
    try {
      answer = await modernRequest(this.context.url, 'events/subscribe', params, AbortSignal.any([abort.signal, AbortSignal.timeout(SUBSCRIBE_MS)]));
    } finally {
      this.#abort = undefined;
      const result = answer?.result as { id?: unknown; cursor?: unknown; truncated?: unknown } | undefined;
      if (typeof result?.id === 'string' && typeof result.cursor === 'string') {
        this.#subscription = result.id;
        if (result.truncated === true) this.gap(undefined, result.cursor, 'subscribe');
      }
      const held = this.#held;
      this.#held = undefined;
      for (const taken of held) this.#take(taken);
    }
    if (this.#subscription === undefined) {
      this.#refusal = JSON.stringify(answer).slice(0, 200);
      this.note(`events/subscribe answered ${this.#refusal}`);
      throw new Error('refused');
    }
  }

  /** The receiver's answer to one verified POST: the spell of 5xx in force, else 200 (and the challenge echo). */
  #answer(body: Record<string, any>, webhookId: string): number {
    if (Date.now() < this.#rejectUntil) return this.#rejectStatus;
    if (body.type !== 'verification') {
      const taken = { body, webhookId, at: Date.now() };
      if (this.#held) this.#held.push(taken);
      else this.#take(taken);
    }
    return 200;
  }

  /** One delivery the receiver answered 2xx, deduplicated by `webhook-id`. */
  #take({ body, webhookId, at }: Taken): void {
    const repeat = this.#seen.has(webhookId);
    this.#seen.add(webhookId);
    if (body.type === 'gap') {
      if (body.reason !== 'retention') this.#violation(`gap envelope ${webhookId} for ${String(body.reason)} up to ${String(body.cursor)}: an event was given up`);
      if (!repeat) this.record({ k: 'gap', after: undefined, resumedAt: typeof body.cursor === 'string' ? body.cursor : undefined, at, via: 'webhook gap' });
      return;
    }
    if (body.type !== undefined) return this.#violation(`a ${String(body.type)} envelope: ${JSON.stringify(body).slice(0, 200)}`);
    const id = body.eventId as string;
    const data = body.data as { id?: unknown; type?: unknown } | undefined;
    if (webhookId !== id || body.cursor !== id || data?.id !== id) this.#violation(`webhook-id ${webhookId} carries eventId ${id}, cursor ${String(body.cursor)}, data.id ${String(data?.id)}`);
    if (body.name !== SUBSCRIPTION_NAME) this.#violation(`event ${id} names ${String(body.name)}, not ${SUBSCRIPTION_NAME}`);
    if (repeat) this.record({ k: 'redelivery', id, at });
    else this.record({ k: 'event', id, type: String(data?.type), at });
  }

  #violation(text: string): void {
    this.record({ k: 'violation', text, at: Date.now() });
  }

  #reconcileLater(ms: number): void {
    void this.#reconcile();
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      void this.#reconcile();
    }, ms);
    this.#timers.add(timer);
  }

  /** Opens or closes the listener to match the refusal in force (and closes it for good once closed); one change at a time. */
  #reconcile(): Promise<void> {
    this.#listener = this.#listener.then(async () => {
      const refusing = this.closed || Date.now() < this.#refuseUntil;
      if (refusing && this.#listening) {
        this.#listening = false;
        this.record({ k: 'interrupted', by: 'cut', at: Date.now() });
        await this.#receiver.stop();
      } else if (!refusing && !this.#listening) {
        await this.#receiver.start(this.#port).then(
          () => {
            this.#port = this.#receiver.port;
            this.#listening = true;
          },
          // Another process took the port while it was closed: try again shortly.
          (error: Error) => {
            this.note(`the receiver could not listen on ${this.#port} again: ${error.message}`);
            this.#reconcileLater(100);
          },
        );
      }
    });
    return this.#listener;
  }
}
