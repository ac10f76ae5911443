import { randomUUID } from 'node:crypto';
import type { Logger } from '../observe/logger.js';
import { type SenderDeps, type SenderStop, SubscriptionSender } from './sender.js';
import type { WebhookSubscription } from './subscription-store.js';

export interface DispatcherOptions extends Omit<SenderDeps, 'owner' | 'now' | 'random'> {
  /** How long a claim on delivering a subscription lasts; renewed every third of it. */
  leaseMs: number;
  /** How often the store is scanned for subscriptions to start, renew, or stop. */
  scanMs: number;
  logger: Logger;
  now?: () => number;
  random?: () => number;
}

interface Running {
  sender: SubscriptionSender;
  renewedAt: number;
}

/**
 * Runs the webhook subscriptions this instance holds the lease for, one
 * {@link SubscriptionSender} each. Every `scanMs` it reads the store: it claims active
 * subscriptions nobody delivers (a new one, or one whose instance died and whose lease ran
 * out), renews its leases, and stops senders whose subscription was removed, suspended,
 * expired or claimed elsewhere. With several instances on one Redis, each subscription is
 * delivered by exactly one of them at a time; on SQLite and in memory, by this process.
 */
export class CallbackDispatcher {
  readonly owner = `relay-${randomUUID()}`;
  readonly #running = new Map<string, Running>();
  readonly #deps: SenderDeps;
  #timer: NodeJS.Timeout | undefined;
  #scan: Promise<void> | undefined;
  #again = false;
  #closed = false;

  constructor(private readonly options: DispatcherOptions) {
    this.#deps = { ...options, owner: this.owner, now: options.now ?? Date.now, random: options.random ?? Math.random };
  }

  start(): void {
    this.#timer = setInterval(() => this.wake(), this.options.scanMs);
    this.#timer.unref();
    this.wake();
  }

  /** Scans now (after a subscribe or unsubscribe on this instance), or again right after the scan in progress. */
  wake(): void {
    if (this.#closed) return;
    if (this.#scan) {
      this.#again = true;
      return;
    }
    this.#scan = this.#scanOnce()
      .catch((error: unknown) => this.options.logger.warn({ err: error }, 'webhook subscriptions could not be read; retrying at the next scan'))
      .finally(() => {
        this.#scan = undefined;
        if (this.#again) {
          this.#again = false;
          this.wake();
        }
      });
  }

  /** Where a running subscription's reader is: the freshest watermark for a subscribe answer. */
  position(id: string): string | undefined {
    return this.#running.get(id)?.sender.position ?? undefined;
  }

  /** How many subscriptions this instance delivers. */
  get running(): number {
    return this.#running.size;
  }

  /** Stops every sender and gives up their leases so another instance can take over at once. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#scan;
    const running = [...this.#running];
    this.#running.clear();
    await Promise.all(
      running.map(async ([id, { sender }]) => {
        await sender.stopAndSave().catch((error: unknown) => this.options.logger.warn({ err: error, subscription: id }, 'webhook delivery progress not written at shutdown'));
        await this.options.store.release(id, this.owner).catch(() => {});
      }),
    );
  }

  async #scanOnce(): Promise<void> {
    const { store, leaseMs } = this.options;
    const subscriptions = await store.list();
    const now = this.#deps.now();
    const present = new Set<string>();
    for (const subscription of subscriptions) {
      if (this.#closed) return;
      present.add(subscription.id);
      const running = this.#running.get(subscription.id);
      if (subscription.expiresAt !== null && subscription.expiresAt <= now) {
        if (running) this.#stop(subscription.id);
        if (await store.remove(subscription.id)) this.options.observer.ended('expired');
      } else if (!subscription.active) {
        if (running) {
          this.#stop(subscription.id);
          await store.release(subscription.id, this.owner);
        }
      } else if (running && subscription.replayFrom !== null) {
        this.#stop(subscription.id);
        await this.#replay(subscription, now);
      } else if (running) {
        if (now - running.renewedAt < leaseMs / 3) continue;
        if (await store.claim(subscription.id, this.owner, leaseMs)) {
          running.renewedAt = now;
          await running.sender.checkpoint();
        } else {
          this.#stop(subscription.id);
        }
      } else if (await store.claim(subscription.id, this.owner, leaseMs)) {
        if (subscription.replayFrom !== null) await this.#replay(subscription, now);
        else this.#begin(subscription, now);
      }
    }
    for (const id of this.#running.keys()) if (!present.has(id)) this.#stop(id);
  }

  /** An operator asked for delivery again from `replayFrom`: the watermark moves there (under the lease), then delivery starts. */
  async #replay(subscription: WebhookSubscription, now: number): Promise<void> {
    const moved = { cursor: subscription.replayFrom!, replayFrom: null, inFlight: null, failedSince: null, throttledUntil: null };
    if (await this.options.store.update(subscription.id, moved, this.owner)) this.#begin({ ...subscription, ...moved }, now);
  }

  #begin(subscription: WebhookSubscription, now: number): void {
    const sender = new SubscriptionSender(subscription, this.#deps, (reason) => this.#stopped(subscription.id, sender, reason));
    this.#running.set(subscription.id, { sender, renewedAt: now });
    this.options.logger.info({ subscription: subscription.id, owner: this.owner, cursor: subscription.cursor }, 'delivering webhook subscription');
    sender.start();
  }

  #stopped(id: string, sender: SubscriptionSender, reason: SenderStop): void {
    if (this.#running.get(id)?.sender !== sender) return;
    this.#running.delete(id);
    if (reason === 'moved') return this.wake();
    if (reason !== 'lease_lost') void this.options.store.release(id, this.owner).catch(() => {});
    // A sender that hit a store error starts again from its watermark at the next scan.
  }

  #stop(id: string): void {
    this.#running.get(id)?.sender.stop();
    this.#running.delete(id);
  }
}
