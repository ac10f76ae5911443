import type { ServerResponse } from 'node:http';
import type { SerializedEvent } from '../log/event-log.js';
import type { Gap } from './reader.js';
import { liveFrames } from './serialized.js';
import { SseStream, type SseStreamOptions } from './sse-stream.js';
import type { StreamEnd } from './stream-end.js';

export interface FeedStreamOptions extends SseStreamOptions {
  /** `retry:` advertised to clients that reconnect on their own (browsers' EventSource). */
  retryMs: number;
  onEnd(end: StreamEnd): void;
}

/** A feed frame is the same for every feed: `id:`, `event:` and `data:` are the event's alone. */
function feedFrame(event: SerializedEvent): string {
  // A type is never allowed to break out of its `event:` line.
  return `id: ${event.id}\nevent: ${event.type.replace(/[\r\n]/g, ' ')}\ndata: ${event.json}\n\n`;
}

/** Where a feed frame is kept among a live event's encodings (see {@link liveFrames}). */
const FEED_FRAME = 'feed';

/**
 * One `GET /feed` response (spec-notes/feed.md): plain SSE frames whose `id:` is the event's ULID,
 * `event:` its normalized type and `data:` its JSON as the log stores it. The events, their
 * pacing and gaps come from the one delivery path ({@link SseStream}); this class only
 * encodes them. A gap — at the start or mid-stream — is one `truncated` frame whose `id:` is
 * where delivery resumed. The heartbeat carries the feed's position when the filter skipped
 * past the last id sent, so a reconnect from `Last-Event-ID` rescans nothing.
 */
export class FeedStream extends SseStream {
  /** The last SSE id written: the client's `Last-Event-ID` if it reconnected now. */
  #lastId: string | null;

  constructor(
    res: ServerResponse,
    private readonly options: FeedStreamOptions,
  ) {
    super(res, options);
    this.#lastId = options.after;
  }

  start(): void {
    // A client gone while the cursor was looked up has already had its 'close'.
    if (this.res.destroyed) return this.end({ reason: 'client_closed' });
    this.open(
      { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' },
      `retry: ${this.options.retryMs}\n\n`,
    );
  }

  /** Ends the response (shutdown); the client reconnects with `Last-Event-ID`. */
  close(): void {
    this.end({ reason: 'shutdown' });
    this.res.end();
  }

  protected storedFrame(event: SerializedEvent): string {
    this.#lastId = event.id;
    return feedFrame(event);
  }

  protected liveFrame(event: SerializedEvent, parts: Buffer[]): void {
    this.#lastId = event.id;
    // Encoded once per event however many feeds carry it.
    const cache = liveFrames(event);
    let frame = cache?.get(FEED_FRAME);
    if (frame === undefined) {
      frame = Buffer.from(feedFrame(event));
      cache?.set(FEED_FRAME, frame);
    }
    parts.push(frame);
  }

  protected gapFrame(gap: Gap): string {
    this.#lastId = gap.resumedAt;
    const data = JSON.stringify({ after: gap.after, resumedAt: gap.resumedAt, reason: 'cursor_not_retained' });
    return `id: ${gap.resumedAt}\nevent: truncated\ndata: ${data}\n\n`;
  }

  protected heartbeatFrame(): string {
    const position = this.position;
    if (position === null || position === this.#lastId) return ': keep-alive\n\n';
    this.#lastId = position;
    return `id: ${position}\nevent: heartbeat\ndata: ${JSON.stringify({ cursor: position })}\n\n`;
  }

  protected onEnd(end: StreamEnd): void {
    this.options.onEnd(end);
  }
}
