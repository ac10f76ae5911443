import type { Event } from '../src/events/event.js';
import { backoffDelay, sleep } from './backoff.js';
import type { CursorStore } from './cursor-store.js';
import type { BackoffOptions } from './options.js';
import { RecentIds } from './recent-ids.js';
import type { SubscriptionError } from './subscription-error.js';

export interface DeliveryOptions {
  onEvent: (event: Event) => Promise<void> | void;
  report: (error: SubscriptionError) => void;
  store: CursorStore;
  attempts: number;
  retry: Required<BackoffOptions>;
  dedupWindow: number;
  signal: AbortSignal;
}

/**
 * What every mode shares: hands events to onEvent one at a time, retries a throwing
 * onEvent with backoff and then reports and skips it, drops events whose dedup key was
 * handled already, and keeps the cursor of the last handled position. Callers await
 * `handle` before the next event and acknowledge (or advance) only after it resolves.
 * `handle` rejects only when the subscription is stopped mid-retry; the event then stays
 * unacknowledged.
 */
export class Delivery {
  private readonly recent: RecentIds;
  /** The last cursor saved, or the resume point loaded at start. */
  cursor: string | null = null;

  constructor(private readonly options: DeliveryOptions) {
    this.recent = new RecentIds(options.dedupWindow);
  }

  /**
   * Resolves `true` once the event was handled (or skipped after onEvent kept failing), and
   * `false` for a duplicate, which a caller does not advance past again: a replay of an
   * earlier position must not move the resume point back. `key` identifies the event across
   * redeliveries: the Events extension's `eventId`, or the relay's log id for the tools.
   */
  async handle(event: Event, key: string): Promise<boolean> {
    const { attempts, onEvent, signal } = this.options;
    // Stopped between two events: the rest stay unacknowledged for the next run.
    if (signal.aborted) throw signal.reason;
    if (this.recent.has(key)) return false;
    let failure: unknown;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) await sleep(backoffDelay(attempt - 1, this.options.retry), signal);
      try {
        await onEvent(event);
        this.recent.add(key);
        return true;
      } catch (error) {
        failure = error;
      }
    }
    this.recent.add(key);
    this.options.report({ kind: 'handler', event, attempts, cause: failure });
    return true;
  }

  /**
   * Saves `cursor` as the resume point. Cursors are opaque: never compared or parsed, only
   * taken in the order the server sends them. A `null` or absent one (a type the server does
   * not replay) is not saved, and an unchanged one (a heartbeat while idle) not written again.
   */
  async advance(cursor: string | null | undefined): Promise<void> {
    if (cursor === null || cursor === undefined || cursor === this.cursor) return;
    await this.options.store.save(cursor);
    this.cursor = cursor;
  }
}
