import type { AppendResult } from './event-log.js';
import type { PendingEvent } from './validate.js';

export interface QueuedAppend {
  events: PendingEvent[];
  resolve(results: AppendResult[]): void;
  reject(error: unknown): void;
}

/** Bounds how long a growing group commit keeps gathering: turns of the loop, each doing real work. */
const MAX_GATHER_TURNS = 16;

export interface AppendQueueOptions {
  /** Turns a commit keeps gathering while appends keep coming; {@link MAX_GATHER_TURNS} by default. */
  maxGatherTurns?: number;
  /**
   * One commit at a time: a commit waits until the previous one's promise settles, and
   * everything queued meanwhile goes in it. For a store whose commit promise covers a flush
   * made off the event loop: appends arriving during a flush would wait for the next flush
   * anyway, so they share one transaction instead of one each.
   */
  oneAtATime?: boolean;
}

/**
 * Group commit: appends made in the same turn of the event loop (concurrent webhook
 * requests, a `Promise.all` of producers) are queued and handed to `commit` together on a
 * later `setImmediate`, so N concurrent appends cost one transaction (one fsync, one Redis
 * script call) instead of N. While each turn brings more appends (requests the kernel
 * already holds, read in the turn's poll phase), the commit waits one more turn, up to
 * `maxGatherTurns`: under load the deliveries that arrived during the previous fsync share
 * the next one instead of splitting into two half-size commits. A lone append waits only
 * for one turn, never for a timer: a turn with pending immediates polls without waiting.
 * `commit` settles every queued append, resolving or rejecting each.
 */
export class AppendQueue {
  readonly #maxGatherTurns: number;
  readonly #oneAtATime: boolean;
  #queue: QueuedAppend[] = [];
  #scheduled = false;
  /** The commit under way, when commits go one at a time. */
  #inFlight: Promise<void> | undefined;
  /** Gathering ended while a commit was under way: its end commits the queue. */
  #waiting = false;

  constructor(
    private readonly commit: (queue: QueuedAppend[]) => void | Promise<void>,
    options: AppendQueueOptions = {},
  ) {
    this.#maxGatherTurns = options.maxGatherTurns ?? MAX_GATHER_TURNS;
    this.#oneAtATime = options.oneAtATime ?? false;
  }

  push(events: PendingEvent[]): Promise<AppendResult[]> {
    return new Promise<AppendResult[]>((resolve, reject) => {
      this.#queue.push({ events, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        this.#gather(this.#queue.length, 0);
      }
    });
  }

  /** Commits on the next turn that brings no new append (or, one at a time, once the commit under way ends). */
  #gather(queued: number, turns: number): void {
    setImmediate(() => {
      if (this.#queue.length > queued && turns < this.#maxGatherTurns) this.#gather(this.#queue.length, turns + 1);
      else if (this.#inFlight !== undefined) this.#waiting = true;
      else void this.flush();
    });
  }

  /** Commits what is queued now; on close, so no queued append is left unsettled. */
  async flush(): Promise<void> {
    this.#scheduled = false;
    this.#waiting = false;
    const queue = this.#queue;
    this.#queue = [];
    if (queue.length === 0) return;
    const committed = this.commit(queue);
    if (!this.#oneAtATime) return committed;
    const inFlight = Promise.resolve(committed).finally(() => {
      if (this.#inFlight === inFlight) this.#inFlight = undefined;
      if (this.#waiting) void this.flush();
    });
    this.#inFlight = inFlight;
    return inFlight;
  }
}
