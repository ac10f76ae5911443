import type { EventFilter } from '../events/filter.js';
import { ulidTime } from '../events/ulid.js';
import { type Gap, openReader, type Reader } from '../delivery/reader.js';
import type { EventLog, SerializedEvent } from '../log/event-log.js';
import type { Logger } from '../observe/logger.js';
import { type AttemptResult, type CallbackTarget, postCallback } from './callback-post.js';
import { type Envelope, eventEnvelope, gapEnvelope, MAX_CALLBACK_BODY_BYTES, terminatedEnvelope } from './envelopes.js';
import type { InFlight, SubscriptionPatch, WebhookSubscription, WebhookSubscriptionStore } from './subscription-store.js';

/** How hard the relay tries before it gives an event up or a subscription suspends. */
export interface RetrySettings {
  /** Waits before the 2nd, 3rd, … attempt of one event: `delaysMs.length + 1` attempts in all. */
  delaysMs: readonly number[];
  /** Each wait is scaled by a random factor in [1 − jitter, 1 + jitter]. */
  jitter: number;
  /** A subscription whose every attempt has failed for this long is suspended. */
  suspendAfterMs: number;
}

/** Told of every attempt and outcome (metrics, drop tracking). */
export interface CallbackObserver {
  attempt(result: AttemptResult): void;
  /** An event reached its subscriber (2xx), `latencyMs` after the relay committed it. */
  delivered(eventId: string, latencyMs: number): void;
  /** An event was given up (`reason`: its last failure, `http_413`, `payload_too_large`). */
  abandoned(reason: string): void;
  /** Delivery stopped for good or until a refresh: `gone` (410), `suspended`, `expired`. */
  ended(reason: 'gone' | 'suspended' | 'expired'): void;
}

export interface SenderDeps {
  store: WebhookSubscriptionStore;
  log: EventLog;
  target: CallbackTarget;
  retry: RetrySettings;
  /** This instance's lease owner id: every progress write is fenced by it. */
  owner: string;
  filterOf(subscription: WebhookSubscription): EventFilter;
  observer: CallbackObserver;
  /** The error a suspension's `terminated` envelope carries (the wire's CallbackEndpointError). */
  suspensionError(reason: string): { code: number; message: string; data?: Record<string, unknown> };
  logger: Logger;
  now: () => number;
  random: () => number;
}

/**
 * How long a delivery's progress may stay unwritten. Writing the watermark after every 2xx
 * would cost one fsync'd commit per event; instead successes are written together, at most
 * this long after the first of them (and at once before any other write). A crash loses at
 * most this much progress, and those events are sent again with the same `webhook-id`.
 */
export const SAVE_EVERY_MS = 200;

/** Why a sender stopped on its own. */
export type SenderStop = 'removed' | 'gone' | 'expired' | 'suspended' | 'lease_lost' | 'store_error' | 'moved';

type Outcome = { kind: 'delivered' } | { kind: 'abandoned'; reason: string } | { kind: 'stopped' };

/**
 * Delivers one webhook subscription: a reader of the one delivery path, from the
 * subscription's watermark, paced by the callbacks. One event at a time, in log order — a
 * later event never overtakes an earlier one — each tried on the retry schedule until its
 * 2xx; an event that exhausts its attempts (or gets 413) is abandoned, announced with a `gap`
 * envelope, and delivery moves on. Gaps in the log itself (retention) are announced the same
 * way. Every step is written to the store under this instance's lease, so a restart (or
 * another instance) continues from the watermark with the attempts already made.
 */
export class SubscriptionSender {
  #reader: Reader | undefined;
  #stopped = false;
  #busy = false;
  #wake: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Progress of delivered events not written yet (see {@link SAVE_EVERY_MS}). */
  #unsaved: SubscriptionPatch | undefined;
  #saveTimer: NodeJS.Timeout | undefined;
  /** Aborts the attempt in flight when the sender stops (shutdown, lease lost, removal). */
  readonly #abort = new AbortController();
  readonly #url: URL;

  constructor(
    private subscription: WebhookSubscription,
    private readonly deps: SenderDeps,
    private readonly onStop: (reason: SenderStop) => void,
  ) {
    this.#url = new URL(subscription.url);
  }

  get id(): string {
    return this.subscription.id;
  }

  /** The reader's position: the last id examined, delivered or skipped by the filter. */
  get position(): string | null {
    return this.#reader?.position ?? null;
  }

  start(): void {
    this.#reader = openReader(
      this.deps.log,
      { after: this.subscription.cursor, filter: this.deps.filterOf(this.subscription), pageSize: 100 },
      {
        events: (events) => this.#deliverAll(events),
        gap: (gap) => this.#gap(gap),
        failed: (error) => {
          this.deps.logger.warn({ err: error, subscription: this.id }, 'webhook delivery could not read the event log; it restarts from its watermark');
          this.#end('store_error');
        },
      },
    );
  }

  /** Stops at once: an attempt in flight is aborted, nothing more is sent. Idempotent. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#abort.abort();
    this.#reader?.stop();
    clearTimeout(this.#timer);
    clearTimeout(this.#saveTimer);
    this.#wake?.();
  }

  /** Stops, then writes the progress not written yet (a graceful shutdown loses none). */
  async stopAndSave(): Promise<void> {
    const unsaved = this.#unsaved;
    this.#unsaved = undefined;
    this.stop();
    if (unsaved) await this.deps.store.update(this.id, unsaved, this.deps.owner);
  }

  /**
   * Moves the stored watermark up to the reader's position while nothing is in flight: in a
   * quiet period a filtered subscription's cursor keeps up with the log.
   */
  async checkpoint(): Promise<void> {
    const position = this.#reader?.position;
    if (this.#busy || this.#stopped || position == null || position <= this.subscription.cursor) return;
    await this.#progress({ cursor: position });
  }

  async #deliverAll(events: readonly SerializedEvent[]): Promise<void> {
    this.#busy = true;
    try {
      for (const event of events) {
        if (this.#stopped) return;
        const envelope = eventEnvelope(this.subscription.name, event);
        const outcome = envelope.body.length > MAX_CALLBACK_BODY_BYTES ? ({ kind: 'abandoned', reason: 'payload_too_large' } as const) : await this.#deliver(envelope, event.id);
        if (outcome.kind === 'stopped') return;
        if (outcome.kind === 'delivered') {
          this.deps.observer.delivered(event.id, this.deps.now() - ulidTime(event.id));
          this.#delivered({ cursor: event.id, inFlight: null, lastDeliveryAt: this.deps.now(), lastError: null, failedSince: null, throttledUntil: null });
        } else {
          this.deps.observer.abandoned(outcome.reason);
          this.deps.logger.warn({ subscription: this.id, eventId: event.id, reason: outcome.reason }, 'webhook delivery abandoned an event');
          // The gap envelope goes out before the watermark passes the event: a restart in
          // between sends it again rather than never.
          if ((await this.#deliver(gapEnvelope(event.id, outcome.reason))).kind === 'stopped') return;
          if (!(await this.#progress({ cursor: event.id, inFlight: null, lastError: outcome.reason }))) return;
        }
      }
    } finally {
      this.#busy = false;
    }
  }

  /** Retention passed the watermark: the receiver is told (until it answers, or the attempts run out), then the watermark moves. */
  async #gap(gap: Gap): Promise<void> {
    if ((await this.#deliver(gapEnvelope(gap.resumedAt, 'retention'))).kind === 'stopped') return;
    await this.#progress({ cursor: gap.resumedAt, inFlight: null });
  }

  /**
   * Attempts `envelope` until a 2xx, an abandonment, or the sender stops. With `eventId`, the
   * attempts are persisted (`inFlight`) so a restart continues the count; control envelopes
   * are not. A 429 waits its `Retry-After` without using an attempt; every failure counts
   * towards suspension.
   */
  async #deliver(envelope: Envelope, eventId?: string): Promise<Outcome> {
    const stored = this.subscription.inFlight;
    let inFlight: InFlight =
      eventId !== undefined && stored?.eventId === eventId ? stored : { eventId: eventId ?? envelope.webhookId, attempts: 0, firstAttemptAt: this.deps.now(), nextAttemptAt: 0 };
    for (;;) {
      await this.#sleepUntil(Math.max(inFlight.nextAttemptAt, this.subscription.throttledUntil ?? 0));
      if (this.#stopped) return { kind: 'stopped' };
      const current = await this.#current();
      if (current === undefined) return { kind: 'stopped' };
      const now = this.deps.now();
      const secrets = current.secrets.filter((s) => s.until === null || s.until > now).map((s) => s.secret);
      const result = await postCallback(this.deps.target, this.#url, this.id, secrets, envelope, now, this.#abort.signal);
      if (this.#stopped) return { kind: 'stopped' };
      this.deps.observer.attempt(result);
      if (result.outcome === 'delivered') return { kind: 'delivered' };
      if (result.outcome === 'gone') {
        await this.deps.store.remove(this.id);
        this.deps.observer.ended('gone');
        this.#end('gone');
        return { kind: 'stopped' };
      }
      if (result.outcome === 'too_large') return { kind: 'abandoned', reason: 'http_413' };
      const failedSince = current.failedSince ?? now;
      const throttled = result.reason === 'throttled' && result.retryAfterMs !== undefined;
      const attempts = inFlight.attempts + (throttled ? 0 : 1);
      if (now - failedSince >= this.deps.retry.suspendAfterMs) {
        await this.#suspend(result.reason, failedSince, { ...inFlight, attempts });
        return { kind: 'stopped' };
      }
      if (attempts > this.deps.retry.delaysMs.length) return { kind: 'abandoned', reason: result.reason };
      const delay = throttled ? result.retryAfterMs! : this.#backoff(attempts);
      inFlight = { ...inFlight, attempts, nextAttemptAt: now + delay };
      const patch: SubscriptionPatch = { lastError: result.reason, failedSince, throttledUntil: throttled ? now + delay : null };
      if (eventId !== undefined) patch.inFlight = inFlight;
      if (!(await this.#progress(patch))) return { kind: 'stopped' };
    }
  }

  #backoff(attempts: number): number {
    const base = this.deps.retry.delaysMs[attempts - 1]!;
    const { jitter } = this.deps.retry;
    return Math.round(base * (1 - jitter + 2 * jitter * this.deps.random()));
  }

  /** The stored subscription, or `undefined` after ending the sender: removed, expired or suspended meanwhile. */
  async #current(): Promise<WebhookSubscription | undefined> {
    const current = await this.deps.store.get(this.id);
    if (current === undefined) return void this.#end('removed');
    if (current.expiresAt !== null && current.expiresAt <= this.deps.now()) {
      await this.deps.store.remove(this.id);
      this.deps.observer.ended('expired');
      return void this.#end('expired');
    }
    if (!current.active) return void this.#end('suspended');
    if (current.replayFrom !== null) return void this.#end('moved');
    // Successes not written yet are newer than what the store holds.
    this.subscription = { ...current, ...this.#unsaved };
    return this.subscription;
  }

  /**
   * Every attempt failed for `RetrySettings.suspendAfterMs`: delivery stops, the watermark and
   * the event in flight are kept, and one `terminated` envelope (a single attempt) tells the
   * endpoint, if it can still hear it. A refresh (`events/subscribe` again) reactivates it
   * from the watermark.
   */
  async #suspend(reason: string, failedSince: number, inFlight: InFlight): Promise<void> {
    if (!(await this.#progress({ active: false, lastError: reason, failedSince, inFlight }))) return;
    this.deps.observer.ended('suspended');
    this.deps.logger.warn({ subscription: this.id, reason, failedSince: new Date(failedSince).toISOString() }, 'webhook subscription suspended after sustained failure');
    const envelope = terminatedEnvelope(this.deps.suspensionError(reason));
    const now = this.deps.now();
    const secrets = this.subscription.secrets.filter((s) => s.until === null || s.until > now).map((s) => s.secret);
    this.deps.observer.attempt(await postCallback(this.deps.target, this.#url, this.id, secrets, envelope, now));
    this.#end('suspended');
  }

  /** Records a delivered event's progress, written within {@link SAVE_EVERY_MS}. */
  #delivered(patch: SubscriptionPatch): void {
    this.subscription = { ...this.subscription, ...patch };
    this.#unsaved = { ...this.#unsaved, ...patch };
    this.#saveTimer ??= setTimeout(() => {
      this.#saveTimer = undefined;
      this.#progress({}).catch((error: unknown) => {
        this.deps.logger.warn({ err: error, subscription: this.id }, 'webhook delivery could not write its progress; it restarts from its watermark');
        this.#end('store_error');
      });
    }, SAVE_EVERY_MS);
  }

  /**
   * Writes progress (with any unwritten successes before it) under the lease; a lost lease
   * (another instance delivers now) ends this sender.
   */
  async #progress(next: SubscriptionPatch): Promise<boolean> {
    if (this.#stopped) return false;
    clearTimeout(this.#saveTimer);
    this.#saveTimer = undefined;
    const patch = { ...this.#unsaved, ...next };
    this.#unsaved = undefined;
    if (Object.keys(patch).length === 0) return true;
    const written = await this.deps.store.update(this.id, patch, this.deps.owner);
    if (!written) {
      this.#end((await this.deps.store.get(this.id)) === undefined ? 'removed' : 'lease_lost');
      return false;
    }
    this.subscription = { ...this.subscription, ...patch };
    return true;
  }

  #sleepUntil(at: number): Promise<void> {
    const wait = at - this.deps.now();
    if (wait <= 0 || this.#stopped) return Promise.resolve();
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#timer = setTimeout(resolve, wait);
    });
  }

  #end(reason: SenderStop): void {
    if (this.#stopped) return;
    this.stop();
    this.onStop(reason);
  }
}
