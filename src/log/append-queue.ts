import type { AppendResult } from './event-log.js';
import type { PendingEvent } from './validate.js';

export interface QueuedAppend {
  events: PendingEvent[];
  resolve(results: AppendResult[]): void;
  reject(error: unknown): void;
}

/** Bounds how long a growing group commit keeps gathering: turns of the loop, each doing real work. */
const MAX_GATHER_TURNS = 16;

/**
 * Group commit: appends made in the same turn of the event loop (concurrent webhook
 * requests, a `Promise.all` of producers) are queued and handed to `commit` together on a
 * later `setImmediate`, so N concurrent appends cost one transaction (one fsync, one Redis
 * script call) instead of N. While each turn brings more appends (requests the kernel
 * already holds, read in the turn's poll phase), the commit waits one more turn, up to
 * `maxGatherTurns` ({@link MAX_GATHER_TURNS} by default): under load the deliveries that
 * arrived during the previous fsync share the next one instead of splitting into two
 * half-size commits. A lone append waits only for one turn, never for a timer: a turn with
 * pending immediates polls without waiting. `commit` settles every queued append, resolving
 * or rejecting each.
 */
export class AppendQueue {
  #queue: QueuedAppend[] = [];
  #scheduled = false;

  constructor(
    private readonly commit: (queue: QueuedAppend[]) => void | Promise<void>,
    private readonly maxGatherTurns = MAX_GATHER_TURNS,
  ) {}

  push(events: PendingEvent[]): Promise<AppendResult[]> {
    return new Promise<AppendResult[]>((resolve, reject) => {
      this.#queue.push({ events, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        this.#gather(this.#queue.length, 0);
      }
    });
  }

  /** Commits on the next turn that brings no new append. */
  #gather(queued: number, turns: number): void {
    setImmediate(() => {
      if (this.#queue.length > queued && turns < this.maxGatherTurns) this.#gather(this.#queue.length, turns + 1);
      else void this.flush();
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
