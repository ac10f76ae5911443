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
 * onEvent with backoff and then reports and skips it, drops ids already handled, and
 * keeps the cursor of the last handled position. Callers await `handle` before the next
 * event and acknowledge (or advance) only after it resolves. `handle` rejects only when
 * the subscription is stopped mid-retry; the event then stays unacknowledged.
 */
export class Delivery {
  private readonly recent: RecentIds;
  /** The last cursor saved, or the resume point loaded at start. */
  cursor: string | null = null;

  constructor(private readonly options: DeliveryOptions) {
    this.recent = new RecentIds(options.dedupWindow);
  }

  /** Resolves `true` when onEvent saw the event, `false` when it was a duplicate or skipped. */
  async handle(event: Event): Promise<boolean> {
    const { attempts, onEvent, signal } = this.options;
    // Stopped between two events: the rest stay unacknowledged for the next run.
    if (signal.aborted) throw signal.reason;
    if (this.recent.has(event.id)) return false;
    let failure: unknown;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) await sleep(backoffDelay(attempt - 1, this.options.retry), signal);
      try {
        await onEvent(event);
        this.recent.add(event.id);
        return true;
      } catch (error) {
        failure = error;
      }
    }
    this.recent.add(event.id);
    this.options.report({ kind: 'handler', event, attempts, cause: failure });
    return false;
  }

  /**
   * Saves `cursor` as the resume point. Cursors are opaque: they are taken in the order the
   * relay sends them, which is not always ascending (after a gap it resumes at `resumedAt`,
   * which sorts below an unknown cursor). An unchanged cursor (a heartbeat while idle) is
   * not written again.
   */
  async advance(cursor: string): Promise<void> {
    if (cursor === this.cursor) return;
    await this.options.store.save(cursor);
    this.cursor = cursor;
  }
}
