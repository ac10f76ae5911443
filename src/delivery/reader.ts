import type { Event } from '../events/event.js';
import { compileFilter, type EventFilter } from '../events/filter.js';
import type { AppendBatch } from '../log/append-notifier.js';
import type { EventLog, SerializedEvent } from '../log/event-log.js';
import { serializedAt } from './serialized.js';

/**
 * Events a reader did not get: those in (`after`, `resumedAt`] were removed by retention
 * (or `after` was never a position of this log). Delivery goes on strictly after `resumedAt`.
 */
export interface Gap {
  after: string | null;
  resumedAt: string;
}

export interface ReaderOptions {
  /** Start strictly after this cursor; `null` reads from the oldest retained event. */
  after: string | null;
  filter?: EventFilter;
  /** Matching events per backlog read (default 1000: the stores scan 1000 rows at a time). */
  pageSize?: number;
}

/**
 * What a reader hands its events to. A returned promise paces the reader: until it settles
 * no read runs and no commit is taken; commits made meanwhile are read from the log after.
 */
export interface ReaderConsumer {
  /**
   * Matching events in log order: a backlog page, or one commit taken live. The reader's
   * {@link Reader.position} moves past them (and past what the filter skipped) once this
   * returns, or once its promise settles.
   */
  events(events: readonly SerializedEvent[], live: boolean): void | Promise<void>;
  /** Events were lost before this reader got them (see {@link Gap}). */
  gap(gap: Gap): void | Promise<void>;
  /** The backlog is delivered: the reader is at the head, following commits. Called once. */
  live?(): void;
  /** A read failed or a consumer callback threw; the reader has stopped. */
  failed(error: Error): void;
}

export interface Reader {
  /**
   * The last id examined, matching or not, once the consumer has taken everything up to it:
   * what heartbeats and end-of-stream results report, so a filtered reader's cursor keeps up
   * with the head instead of resting on its last match.
   */
  readonly position: string | null;
  /** Stops reading; no callback runs after it returns. Idempotent. */
  stop(): void;
}

const DEFAULT_PAGE = 1000;

function isPromise(value: unknown): value is Promise<void> {
  return typeof (value as Promise<void> | undefined)?.then === 'function';
}

/**
 * THE replay-then-follow path every reader of the log shares (push streams of both eras,
 * `/feed`, long polls, reactions, resource updates): from a cursor and a filter it hands over
 * the stored backlog page by page, paced by the consumer, then every later commit.
 *
 * The seam is exact by construction: the reader listens for commits *before* its first read
 * and always continues from its own position. A commit whose predecessor is that position is
 * taken as it is (no read: the fan-out fast path); any other commit — or one arriving while
 * a read or the consumer is busy — only marks the reader dirty, and it reads from its
 * position again. So a racing commit is either in the next read or handed over whole, never
 * both, never neither.
 *
 * Every read is checked for truncation, not just the first: a reader that paused while
 * retention trimmed past its position is told of the gap where it happens.
 */
export function openReader(log: EventLog, options: ReaderOptions, consumer: ReaderConsumer): Reader {
  const matches = compileFilter(options.filter);
  const pageSize = options.pageSize ?? DEFAULT_PAGE;
  let position = options.after;
  let stopped = false;
  let busy = false;
  let dirty = false;
  let live = false;

  const fail = (error: unknown): void => {
    if (stopped) return;
    stop();
    consumer.failed(error instanceof Error ? error : new Error(String(error)));
  };

  /** Reads from the position until a read finds nothing new, after `first` (a consumer's pending promise). */
  const pump = async (first?: Promise<void>): Promise<void> => {
    busy = true;
    try {
      if (first) await first;
      do {
        dirty = false;
        for (;;) {
          if (stopped) return;
          const page = await log.readSerialized({ after: position, filter: options.filter, limit: pageSize });
          if (stopped) return;
          if (page.truncated) {
            const resumedAt = page.resumedAt!;
            await consumer.gap({ after: position, resumedAt });
            if (stopped) return;
            position = resumedAt;
          }
          if (page.events.length > 0) {
            await consumer.events(page.events, false);
            if (stopped) return;
          }
          if (page.cursor !== null) position = page.cursor;
          if (!page.hasMore) break;
        }
      } while (dirty);
      if (!live) {
        live = true;
        consumer.live?.();
      }
    } catch (error) {
      fail(error);
    } finally {
      busy = false;
    }
  };

  const onCommit = (batch: AppendBatch): void => {
    if (stopped) return;
    if (busy || batch.events.length === 0 || batch.prev !== position) {
      dirty = true;
      if (!busy) void pump();
      return;
    }
    const end = batch.events.at(-1)!.id;
    const taken = takeMatching(batch.events, matches);
    if (taken.length === 0) {
      position = end;
      return;
    }
    let pending: void | Promise<void>;
    try {
      pending = consumer.events(taken, true);
    } catch (error) {
      fail(error);
      return;
    }
    if (!isPromise(pending)) {
      position = end;
      return;
    }
    void pump(pending.then(() => void (position = end)));
  };

  const unsubscribe = log.onCommit(onCommit);
  function stop(): void {
    if (stopped) return;
    stopped = true;
    unsubscribe();
  }
  void pump();
  return {
    get position() {
      return position;
    },
    stop,
  };
}

function takeMatching(events: readonly Event[], matches: ReturnType<typeof compileFilter>): SerializedEvent[] {
  const taken: SerializedEvent[] = [];
  for (let i = 0; i < events.length; i++) if (matches(events[i]!)) taken.push(serializedAt(events, i));
  return taken;
}
