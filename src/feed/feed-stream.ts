import type { ServerResponse } from 'node:http';
import type { Event } from '../events/event.js';
import type { EventFilter } from '../events/filter.js';
import type { EventLog, Follower } from '../log/event-log.js';
import { cutIfBehind, drained, jsonOf } from './socket-pacing.js';

export type FeedEnd = 'closed' | 'disconnected' | 'overflow' | 'failed';

export interface FeedStreamOptions {
  log: EventLog;
  filter: EventFilter;
  /** Start strictly after this id; `null` for an empty log read from its beginning. */
  after: string | null;
  /** The `Last-Event-ID` the client asked for, echoed when it could not be honoured. */
  requested: string | undefined;
  heartbeatMs: number;
  /** Unsent bytes one slow reader may hold before it is disconnected to resume by `Last-Event-ID`. */
  bufferBytes: number;
  /** `retry:` advertised to clients that reconnect on their own (browsers' EventSource). */
  retryMs: number;
  onEnd(reason: FeedEnd): void;
}

const BACKLOG_PAGE = 500;

/** An SSE event frame; a type is never allowed to break out of its `event:` line. */
function frame(id: string, type: string, json: string): string {
  return `id: ${id}\nevent: ${type.replace(/[\r\n]/g, ' ')}\ndata: ${json}\n\n`;
}

/**
 * One `GET /feed` response (protocol §6): plain SSE frames whose `id:` is the event's ULID,
 * `event:` its normalized type and `data:` its JSON. The backlog after the cursor is sent
 * as the log stores it (no re-encoding), page by page as the socket drains; then a log
 * follower continues from exactly where the backlog ended, so the seam has no gap and no
 * duplicate. A cursor the log no longer holds is announced by one `truncated` frame.
 */
export class FeedStream {
  #cursor: string | null;
  #follower: Follower | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #ended = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly options: FeedStreamOptions,
  ) {
    this.#cursor = options.after;
    res.on('close', () => this.#end('disconnected'));
  }

  async start(): Promise<void> {
    const { res, options } = this;
    // A client gone while the cursor was looked up has already had its 'close'.
    if (res.destroyed) return this.#end('disconnected');
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(`retry: ${options.retryMs}\n\n`);
    this.#heartbeat = setInterval(() => {
      if (!this.#ended) res.write(': keep-alive\n\n');
    }, options.heartbeatMs);
    try {
      let page = await options.log.readSerialized({ after: this.#cursor, filter: options.filter, limit: BACKLOG_PAGE });
      if (page.truncated && !this.#ended) {
        res.write(`event: truncated\ndata: ${JSON.stringify({ lastEventId: options.requested ?? null, reason: 'cursor_not_retained' })}\n\n`);
      }
      for (;;) {
        for (const event of page.events) {
          // The backlog is paced by the reader, not bounded: the relay can wait for it to drain.
          res.write(frame(event.id, event.type, event.json));
          if (res.writableNeedDrain) await drained(res);
          if (this.#ended) return;
        }
        if (page.cursor !== null) this.#cursor = page.cursor;
        if (this.#ended || !page.hasMore) break;
        page = await options.log.readSerialized({ after: this.#cursor, filter: options.filter, limit: BACKLOG_PAGE });
      }
      if (this.#ended) return;
      this.#follower = options.log.follow(
        { after: this.#cursor, filter: options.filter },
        { onEvent: (event) => this.#live(event), onError: () => this.#end('failed') },
      );
    } catch {
      this.#end('failed');
    }
  }

  /** Ends the response (shutdown); the client reconnects with `Last-Event-ID`. */
  close(): void {
    this.#end('closed');
    this.res.end();
  }

  #live(event: Event): void {
    if (this.#ended || cutIfBehind(this.res, this.options.bufferBytes, () => this.#end('overflow'))) return;
    this.#cursor = event.id;
    this.res.write(frame(event.id, event.type, jsonOf(event)));
  }

  #end(reason: FeedEnd): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#follower?.stop();
    clearInterval(this.#heartbeat);
    this.options.onEnd(reason);
    if (reason === 'failed') this.res.destroy();
  }
}
