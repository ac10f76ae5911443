import type express from 'express';
import { FeedStream } from '../delivery/feed-stream.js';
import { type Budget, sendLimitReached } from '../http/budget.js';
import type { EventLog } from '../log/event-log.js';
import { principalOf } from '../http/access.js';
import type { StreamObserver } from '../observe/stream-stats.js';
import { parseFeedRequest } from './feed-request.js';

export interface FeedRouteOptions {
  log: EventLog;
  /** Heartbeats this often (`RELAY_HEARTBEAT`), so proxies keep an idle feed open. */
  heartbeatMs: number;
  /** `RELAY_STREAM_BUFFER_BYTES`: the same bound as push streams. */
  bufferBytes: number;
  /** Told when feeds open and end (with the reason): the log line and the metric. */
  observer: StreamObserver;
  /** Open feeds per principal and in total (`RELAY_MAX_FEEDS_PER_PRINCIPAL`, `RELAY_MAX_FEEDS`). */
  budget: Budget;
}

/** `GET /feed` and the feeds it has open. Authentication runs before {@link handler}. */
export interface FeedRoute {
  handler: express.RequestHandler;
  /** Feeds currently streaming (for metrics). */
  readonly openFeeds: number;
  /** Ends every open feed (shutdown); clients reconnect with `Last-Event-ID`. */
  closeAll(): void;
}

/** What browsers wait before reconnecting a dropped feed. */
const RETRY_MS = 2000;

export function createFeedRoute(options: FeedRouteOptions): FeedRoute {
  const open = new Set<FeedStream>();
  const handler: express.RequestHandler = async (req, res) => {
    const request = parseFeedRequest(req.query as Record<string, unknown>, req.headers['last-event-id']);
    if ('error' in request) {
      res.status(400).json(request);
      return;
    }
    let after: string | null;
    try {
      // Without a cursor a feed is live only: it starts after the last id ever assigned.
      after = request.lastEventId ?? (await options.log.head());
    } catch {
      res.status(503).json({ error: 'store_unavailable', message: 'the event log is not reachable; retry shortly' });
      return;
    }
    const principal = principalOf(req.auth);
    const slot = options.budget.take(principal);
    if (!slot.ok) {
      sendLimitReached(res, slot.refusal);
      return;
    }
    const stream: FeedStream = new FeedStream(res, {
      log: options.log,
      filter: request.filter,
      after,
      heartbeatMs: options.heartbeatMs,
      bufferBytes: options.bufferBytes,
      retryMs: RETRY_MS,
      onEnd: (end) => {
        slot.release();
        open.delete(stream);
        options.observer.closed('feed', principal, { durationMs: Date.now() - stream.openedAt, framesWritten: stream.framesWritten, ...end });
      },
    });
    open.add(stream);
    options.observer.opened('feed', principal);
    stream.start();
  };
  return {
    handler,
    get openFeeds() {
      return open.size;
    },
    closeAll() {
      for (const stream of [...open]) stream.close();
    },
  };
}
