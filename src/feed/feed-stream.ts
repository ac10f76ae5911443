import type { ServerResponse } from 'node:http';
import type { EventFilter } from '../events/filter.js';
import { type Gap, openReader, type Reader } from '../delivery/reader.js';
import { cutIfBehind, drained } from '../delivery/socket-pacing.js';
import { failureEnd, type StreamEnd } from '../delivery/stream-end.js';
import type { EventLog, SerializedEvent } from '../log/event-log.js';

export interface FeedStreamOptions {
  log: EventLog;
  filter: EventFilter;
  /** Start strictly after this id; `null` for an empty log read from its beginning. */
  after: string | null;
  heartbeatMs: number;
  /** Unsent bytes one slow reader may hold before it is disconnected to resume by `Last-Event-ID`. */
  bufferBytes: number;
  /** `retry:` advertised to clients that reconnect on their own (browsers' EventSource). */
  retryMs: number;
  onEnd(end: StreamEnd): void;
}

/** An SSE event frame; a type is never allowed to break out of its `event:` line. */
function frame(id: string, type: string, json: string): string {
  return `id: ${id}\nevent: ${type.replace(/[\r\n]/g, ' ')}\ndata: ${json}\n\n`;
}

/**
 * One `GET /feed` response (protocol §6): plain SSE frames whose `id:` is the event's ULID,
 * `event:` its normalized type and `data:` its JSON as the log stores it. The events come
 * from the one replay-then-follow path ({@link openReader}); this class only encodes them.
 * A gap — at the start or mid-stream — is one `truncated` frame whose `id:` is where delivery
 * resumed. The heartbeat carries the feed's position when the filter skipped past the last
 * id sent, so a reconnect from `Last-Event-ID` rescans nothing.
 */
export class FeedStream {
  #reader: Reader | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  /** The last SSE id written: the client's `Last-Event-ID` if it reconnects now. */
  #lastId: string | null;
  #frames = 0;
  #ended = false;
  readonly openedAt = Date.now();

  constructor(
    private readonly res: ServerResponse,
    private readonly options: FeedStreamOptions,
  ) {
    this.#lastId = options.after;
    res.on('close', () => this.#end({ reason: 'client_closed' }));
  }

  /** Event frames written so far. */
  get framesWritten(): number {
    return this.#frames;
  }

  start(): void {
    const { res, options } = this;
    // A client gone while the cursor was looked up has already had its 'close'.
    if (res.destroyed) return this.#end({ reason: 'client_closed' });
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(`retry: ${options.retryMs}\n\n`);
    this.#heartbeat = setInterval(() => this.#heartbeatFrame(), options.heartbeatMs);
    this.#reader = openReader(
      options.log,
      { after: options.after, filter: options.filter },
      {
        events: (events, live) => (live ? this.#sendLive(events) : this.#sendBacklog(events)),
        gap: (gap) => this.#gap(gap),
        failed: (error) => this.#end(failureEnd(error)),
      },
    );
  }

  /** Ends the response (shutdown); the client reconnects with `Last-Event-ID`. */
  close(): void {
    this.#end({ reason: 'shutdown' });
    this.res.end();
  }

  #gap(gap: Gap): void {
    if (this.#ended) return;
    this.#lastId = gap.resumedAt;
    const data = JSON.stringify({ after: gap.after, resumedAt: gap.resumedAt, reason: 'cursor_not_retained' });
    this.res.write(`id: ${gap.resumedAt}\nevent: truncated\ndata: ${data}\n\n`);
  }

  /** The backlog is paced by the reader, not bounded: the relay waits for the socket to drain. */
  async #sendBacklog(events: readonly SerializedEvent[]): Promise<void> {
    for (const event of events) {
      if (this.#ended) return;
      this.#write(event);
      if (this.res.writableNeedDrain) await drained(this.res);
    }
  }

  #sendLive(events: readonly SerializedEvent[]): void {
    for (const event of events) {
      if (this.#ended || cutIfBehind(this.res, this.options.bufferBytes, () => this.#end({ reason: 'reader_too_slow' }))) return;
      this.#write(event);
    }
  }

  #write(event: SerializedEvent): void {
    this.res.write(frame(event.id, event.type, event.json));
    this.#lastId = event.id;
    this.#frames++;
  }

  #heartbeatFrame(): void {
    if (this.#ended) return;
    const position = this.#reader?.position ?? null;
    // Ids are ULIDs: ordered as strings. Mid-page the position still trails the frames sent.
    if (position === null || (this.#lastId !== null && position <= this.#lastId)) {
      this.res.write(': keep-alive\n\n');
      return;
    }
    this.#lastId = position;
    this.res.write(`id: ${position}\nevent: heartbeat\ndata: ${JSON.stringify({ cursor: position })}\n\n`);
  }

  #end(end: StreamEnd): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#reader?.stop();
    clearInterval(this.#heartbeat);
    this.options.onEnd(end);
    if (end.error) this.res.destroy();
  }
}
