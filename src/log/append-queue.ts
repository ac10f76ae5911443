import type { AppendResult } from './event-log.js';
import type { PendingEvent } from './validate.js';

export interface QueuedAppend {
  events: PendingEvent[];
  resolve(results: AppendResult[]): void;
  reject(error: unknown): void;
}

/**
 * Group commit: appends made in the same turn of the event loop (concurrent webhook
 * requests, a `Promise.all` of producers) are queued and handed to `commit` together on the
 * next `setImmediate`, so N concurrent appends cost one transaction (one fsync, one Redis
 * script call) instead of N. A lone append waits only for that one turn, never for a timer.
 * `commit` settles every queued append, resolving or rejecting each.
 */
export class AppendQueue {
  #queue: QueuedAppend[] = [];
  #scheduled = false;

  constructor(private readonly commit: (queue: QueuedAppend[]) => void | Promise<void>) {}

  push(events: PendingEvent[]): Promise<AppendResult[]> {
    return new Promise<AppendResult[]>((resolve, reject) => {
      this.#queue.push({ events, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  /** Commits what is queued now; on close, so no queued append is left unsettled. */
  async flush(): Promise<void> {
    this.#scheduled = false;
    const queue = this.#queue;
    this.#queue = [];
    if (queue.length > 0) await this.commit(queue);
  }
}
