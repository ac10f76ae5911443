import type { ServerResponse } from 'node:http';
import type { EventFilter } from '../events/filter.js';
import type { EventLog, SerializedEvent } from '../log/event-log.js';
import { type Gap, openReader, type Reader } from './reader.js';
import { cutIfBehind, drained } from './socket-pacing.js';
import { failureEnd, type StreamEnd } from './stream-end.js';

export interface SseStreamOptions {
  log: EventLog;
  filter: EventFilter;
  /** Start strictly after this cursor; `null` for an empty log read from its beginning. */
  after: string | null;
  heartbeatMs: number;
  /** Unsent bytes one slow reader may hold before it is disconnected to resume by cursor. */
  bufferBytes: number;
  /** An event frame was written: the event reached an agent. */
  onDelivered?(eventId: string): void;
}

/** Backlog frames go out in writes of about this many characters: a few large writes, not one per event. */
const BACKLOG_WRITE = 64 * 1024;

/**
 * An SSE response fed by the one delivery path ({@link openReader}). What every SSE reader
 * shares lives here: the backlog is paced by the reader — the relay waits for the socket to
 * drain — while live events are not waited for: a reader that fell behind is cut and resumes
 * by cursor, so one slow client never holds memory for every event it has not read. A
 * subclass only encodes: event frames, the gap frame, the heartbeat.
 */
export abstract class SseStream {
  #reader: Reader | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #ended = false;
  #frames = 0;
  /** The last id the client was given: an event frame's, or where a gap resumed. */
  #written: string | null = null;
  readonly openedAt = Date.now();

  constructor(
    protected readonly res: ServerResponse,
    private readonly stream: SseStreamOptions,
  ) {
    res.on('close', () => this.end({ reason: 'client_closed' }));
  }

  /** Event frames written so far. */
  get framesWritten(): number {
    return this.#frames;
  }

  /**
   * Where this stream stands for the client: the reader's position (the last id examined,
   * matching or not), or — while a backlog page is still being written — the last id sent,
   * which is further on. Ids are ULIDs, ordered as strings.
   */
  protected get position(): string | null {
    const read = this.#reader?.position ?? this.stream.after;
    if (this.#written === null || (read !== null && read > this.#written)) return read;
    return this.#written;
  }

  protected get ended(): boolean {
    return this.#ended;
  }

  /** A stored event's frame, or `undefined` to skip it. */
  protected abstract storedFrame(event: SerializedEvent): string | undefined;
  /** A live event's frame (may be shared between streams), or `undefined` to skip it. */
  protected abstract liveFrame(event: SerializedEvent): string | Buffer | undefined;
  protected abstract gapFrame(gap: Gap): string;
  /** What is written every `heartbeatMs`. */
  protected abstract heartbeatFrame(): string;
  /** Before each batch of event frames, and when the backlog is done: where a stream announces itself. */
  protected caughtUp?(): void;
  /** Told once, when the stream has ended, and why. */
  protected abstract onEnd(end: StreamEnd): void;

  /** Sends the response head, then the events from the reader. */
  protected open(headers: Record<string, string>, preamble: string): void {
    this.res.writeHead(200, headers);
    if (preamble !== '') this.res.write(preamble);
    this.#heartbeat = setInterval(() => {
      if (!this.#ended) this.res.write(this.heartbeatFrame());
    }, this.stream.heartbeatMs);
    this.#reader = openReader(
      this.stream.log,
      { after: this.stream.after, filter: this.stream.filter },
      {
        events: (events, live) => (live ? this.#sendLive(events) : this.#sendBacklog(events)),
        gap: (gap) => {
          if (this.#ended) return;
          this.res.write(this.gapFrame(gap));
          this.#written = gap.resumedAt;
        },
        live: () => this.caughtUp?.(),
        failed: (error) => this.end(failureEnd(error)),
      },
    );
  }

  async #sendBacklog(events: readonly SerializedEvent[]): Promise<void> {
    this.caughtUp?.();
    let frames = '';
    for (const event of events) {
      if (this.#ended) return;
      const frame = this.storedFrame(event);
      if (frame === undefined) continue;
      frames += frame;
      this.#delivered(event.id);
      this.#written = event.id;
      if (frames.length < BACKLOG_WRITE) continue;
      await this.#writeBacklog(frames);
      frames = '';
    }
    await this.#writeBacklog(frames);
  }

  async #writeBacklog(frames: string): Promise<void> {
    if (this.#ended || frames === '') return;
    this.res.write(frames);
    if (this.res.writableNeedDrain) await drained(this.res);
  }

  #sendLive(events: readonly SerializedEvent[]): void {
    this.caughtUp?.();
    for (const event of events) {
      if (this.#ended || cutIfBehind(this.res, this.stream.bufferBytes, () => this.end({ reason: 'reader_too_slow' }))) return;
      const frame = this.liveFrame(event);
      if (frame === undefined) continue;
      this.res.write(frame);
      this.#delivered(event.id);
      this.#written = event.id;
    }
  }

  #delivered(eventId: string): void {
    this.#frames++;
    this.stream.onDelivered?.(eventId);
  }

  /** Stops the reader and the heartbeat; a failure also destroys the socket. Idempotent. */
  protected end(end: StreamEnd): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#reader?.stop();
    clearInterval(this.#heartbeat);
    this.onEnd(end);
    if (end.error) this.res.destroy();
  }
}
