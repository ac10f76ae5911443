import { compileFilter } from '../events/filter.js';
import type { AppendBatch, AppendNotifier } from './append-notifier.js';
import type { FollowHandlers, FollowOptions, Follower, ReadOptions, ReadResult } from './event-log.js';

const BACKLOG_PAGE = 1000;

/**
 * The live tail every backend shares. It subscribes to commits *before* reading the
 * backlog, and always continues from its own cursor, so the seam between backlog and live
 * is exact by construction: a commit racing the backlog is either seen by the next read
 * or handed over whole by the notifier when it starts right at the cursor — never both,
 * never neither. Commits are delivered from the notification directly only when the
 * follower is caught up (no read needed: the fan-out fast path).
 */
export function startFollower(
  read: (options: ReadOptions) => Promise<ReadResult>,
  notifier: AppendNotifier,
  options: FollowOptions,
  handlers: FollowHandlers,
): Follower {
  const matches = compileFilter(options.filter);
  let cursor = options.after;
  let stopped = false;
  let pumping = false;
  let dirty = false;
  let firstRead = true;
  let resolveLive!: () => void;
  let resolveTruncated!: (value: boolean) => void;
  const live = new Promise<void>((resolve) => (resolveLive = resolve));
  const truncated = new Promise<boolean>((resolve) => (resolveTruncated = resolve));

  const fail = (error: unknown): void => {
    if (stopped) return;
    stop();
    handlers.onError?.(error instanceof Error ? error : new Error(String(error)));
  };

  const deliver = (event: Parameters<FollowHandlers['onEvent']>[0]): void => {
    try {
      handlers.onEvent(event);
    } catch (error) {
      fail(error);
    }
  };

  const pump = async (): Promise<void> => {
    pumping = true;
    try {
      do {
        dirty = false;
        let page: ReadResult;
        do {
          page = await read({ after: cursor, filter: options.filter, limit: BACKLOG_PAGE });
          if (stopped) return;
          if (firstRead) {
            firstRead = false;
            resolveTruncated(page.truncated);
          }
          for (const event of page.events) {
            deliver(event);
            if (stopped) return;
          }
          cursor = page.cursor;
        } while (page.hasMore);
      } while (dirty);
      resolveLive();
    } catch (error) {
      fail(error);
    } finally {
      pumping = false;
    }
  };

  const onBatch = (batch: AppendBatch): void => {
    if (stopped) return;
    if (pumping || batch.events.length === 0 || batch.prev !== cursor) {
      dirty = true;
      if (!pumping) void pump();
      return;
    }
    for (const event of batch.events) {
      cursor = event.id;
      if (matches(event)) deliver(event);
      if (stopped) return;
    }
  };

  const unsubscribe = notifier.subscribe(onBatch);
  function stop(): void {
    if (stopped) return;
    stopped = true;
    unsubscribe();
    resolveLive();
    resolveTruncated(false);
  }
  void pump();
  return { stop, live, truncated };
}
