import type { ServerResponse } from 'node:http';
import type { EventFilter } from '../events/filter.js';
import type { EventLog, SerializedEvent } from '../log/event-log.js';
import { type Gap, openReader, type Reader } from './reader.js';
import { isStoreFailure } from '../http/errors.js';
import { writeChunk } from './chunk-writer.js';
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
  /**
   * Failed reads of the store to retry before the stream ends, `delayMs` apart (default: none).
   * The count starts again once a read succeeds.
   */
  storeRetries?: { attempts: number; delayMs: number };
}

/** The parts of one live write, gathered then written at once: one array for every stream, as a fan-out writes one stream at a time. */
const LIVE_PARTS: Buffer[] = [];

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
  #retry: NodeJS.Timeout | undefined;
  /** Failed store reads in a row. */
  #failures = 0;
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

  /** A stored event's frame. */
  protected abstract storedFrame(event: SerializedEvent): string;
  /**
   * Adds a live event's frame to `parts`, in parts written one after another: buffers shared
   * between streams (an encoding made once per event) and this stream's own, so a fan-out
   * copies nothing.
   */
  protected abstract liveFrame(event: SerializedEvent, parts: Buffer[]): void;
  protected abstract gapFrame(gap: Gap): string;
  /** What is written every `heartbeatMs`. */
  protected abstract heartbeatFrame(): string;
  /** Before each batch of event frames, and when the backlog is done: where a stream announces itself. */
  protected caughtUp?(): void;
  /** What is written when a failed store read will be retried (see {@link SseStreamOptions.storeRetries}). */
  protected retryFrame?(retryInMs: number): string;
  /** Told once, when the stream has ended, and why. */
  protected abstract onEnd(end: StreamEnd): void;

  /** Sends the response head, then the events from the reader. */
  protected open(headers: Record<string, string>, preamble: string): void {
    this.res.writeHead(200, headers);
    // On the wire now: live frames go straight to the socket after it (see writeChunk).
    this.res.flushHeaders();
    if (preamble !== '') this.res.write(preamble);
    this.#heartbeat = setInterval(() => {
      if (!this.#ended) this.res.write(this.heartbeatFrame());
    }, this.stream.heartbeatMs);
    this.#follow(this.stream.after);
  }

  /** Reads from `after` on: the backlog, then live commits. */
  #follow(after: string | null): void {
    this.#reader = openReader(
      this.stream.log,
      { after, filter: this.stream.filter },
      {
        events: (events, live) => (live ? this.#sendLive(events) : this.#sendBacklog(events)),
        gap: (gap) => {
          if (this.#ended) return;
          this.res.write(this.gapFrame(gap));
          this.#written = gap.resumedAt;
        },
        live: () => {
          this.#failures = 0;
          this.caughtUp?.();
        },
        failed: (error) => this.#failed(error),
      },
    );
  }

  /** A failed read of the store is retried from the stream's position while attempts are left; anything else ends the stream. */
  #failed(error: Error): void {
    const retries = this.stream.storeRetries;
    if (this.#ended) return;
    if (retries === undefined || !isStoreFailure(error) || this.#failures >= retries.attempts) {
      this.end(failureEnd(error));
      return;
    }
    this.#failures++;
    if (this.retryFrame) this.res.write(this.retryFrame(retries.delayMs));
    this.#retry = setTimeout(() => {
      try {
        this.#follow(this.position);
      } catch (failure) {
        // A log that cannot even be followed (closed) fails here, not in a read.
        this.#failed(failure as Error);
      }
    }, retries.delayMs);
  }

  async #sendBacklog(events: readonly SerializedEvent[]): Promise<void> {
    this.caughtUp?.();
    let frames = '';
    for (const event of events) {
      if (this.#ended) return;
      frames += this.storedFrame(event);
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

  /**
   * A commit's events in one HTTP chunk and one system call ({@link writeChunk}), however many
   * events and parts. A reader still holding more than `bufferBytes` of earlier frames unsent
   * is cut first.
   */
  #sendLive(events: readonly SerializedEvent[]): void {
    this.caughtUp?.();
    if (this.#ended || cutIfBehind(this.res, this.stream.bufferBytes, () => this.end({ reason: 'reader_too_slow' }))) return;
    const parts = LIVE_PARTS;
    parts.length = 0;
    for (const event of events) {
      this.liveFrame(event, parts);
      this.#delivered(event.id);
      this.#written = event.id;
    }
    writeChunk(this.res, parts);
    parts.length = 0;
  }

  #delivered(eventId: string): void {
    this.#frames++;
    this.stream.onDelivered?.(eventId);
  }

  /** Stops the reader, the heartbeat and any retry; a failure also ends the response. Idempotent. */
  protected end(end: StreamEnd): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#reader?.stop();
    clearInterval(this.#heartbeat);
    clearTimeout(this.#retry);
    this.onEnd(end);
    if (end.error) this.res.end();
  }
}
