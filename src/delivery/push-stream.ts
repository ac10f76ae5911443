import type { ServerResponse } from 'node:http';
import type { SerializedEvent } from '../log/event-log.js';
import { occurrenceHead } from './occurrence-json.js';
import { liveFrames } from './serialized.js';
import type { Gap } from './reader.js';
import { SseStream, type SseStreamOptions } from './sse-stream.js';
import type { StreamEnd, StreamEndReason } from './stream-end.js';

/** How a push stream ended, and where: its position when it stopped. */
export interface PushStreamEnd extends StreamEnd {
  cursor: string;
  /** True when the request's final result was written (nothing left to resume). */
  finished: boolean;
}

export interface PushStreamOptions extends SseStreamOptions {
  /** The subscribed event name, echoed in every occurrence. */
  name: string;
  /** The `events/stream` request id, which the final result answers. */
  requestId: string | number;
  /** Every notification's `_meta`: the subscription id (the request id) under the MCP SDK's key. */
  meta: Record<string, unknown>;
  /** The final result's `_meta`. */
  resultMeta: Record<string, unknown>;
  /** Prepended to each frame's SSE id: `<tag>.` on a legacy session, '' otherwise. */
  idPrefix: string;
  /** Start strictly after this cursor (an event id or `LOG_START`). */
  after: string;
  /** The first `active` says `truncated: true`: getting to `after` passed over events the subscription had (`maxAgeMs`). */
  truncated: boolean;
  /** `retry:` advertised to clients that resume with `Last-Event-ID` (legacy only). */
  retryMs: number | undefined;
  /**
   * Rotate the connection after this long (0: never): a legacy stream closes without a
   * result and the client resumes with `Last-Event-ID` (SEP-1699); a modern stream ends with
   * its result and cursor. Lets proxies and load balancers see connections turn over.
   */
  lifetimeMs: number;
  /** Send `notifications/events/active` first (not on a legacy resume, which continues a stream). */
  announce: boolean;
  /** The final result's shape differs by era (`resultType` is a 2026-07-28 field). */
  era: 'legacy' | 'modern';
  /**
   * The error a `notifications/events/terminated` carries before the server ends the stream
   * for `reason`; `undefined` for ends the client caused or that leave it resumable.
   */
  terminationError(reason: StreamEndReason): WireError | undefined;
  /** The error a `notifications/events/error` carries when a failed read will be retried. */
  transientError(retryInMs: number): WireError;
  onEnd(end: PushStreamEnd): void;
}

/** A JSON-RPC error object, as the `error` of `notifications/events/error` and `terminated`. */
export interface WireError {
  code: number;
  message: string;
  data?: Record<string, unknown>;
}

/** Failed store reads a push stream retries, announcing each with `notifications/events/error`, before it ends. */
const STORE_RETRIES = { attempts: 3, delayMs: 500 };

/** An event frame up to its `_meta`, the one part that differs from subscription to subscription. */
function frameHead(idPrefix: string, name: string, event: SerializedEvent): string {
  return (
    `id: ${idPrefix}${event.id}\nevent: message\ndata: {"jsonrpc":"2.0","method":"notifications/events/event","params":` +
    `${occurrenceHead(name, event)},"_meta":`
  );
}

/**
 * The head of a live event's frame, encoded once per event and subscription (name, id prefix)
 * however many streams carry it: a commit fanned out to a thousand streams costs one
 * encoding, written a thousand times by reference beside each stream's own tail. `key` names
 * (idPrefix, name): `${idPrefix}\n${name}`, made once per stream.
 */
function liveHead(event: SerializedEvent, key: string, idPrefix: string, name: string): Buffer {
  const cache = liveFrames(event);
  let head = cache?.get(key);
  if (head === undefined) {
    head = Buffer.from(frameHead(idPrefix, name, event));
    cache?.set(key, head);
  }
  return head;
}

/**
 * One `events/stream` response: SSE frames written straight to the socket, so the relay —
 * not a per-connection buffer — decides ids, pacing and limits. The events, their pacing and
 * gaps come from the one delivery path ({@link SseStream}); this class only encodes them:
 * `active` first (with `truncated` when the cursor is gone), event notifications, a gap
 * mid-stream as another `active` with `truncated: true`, and heartbeats carrying the
 * reader's position.
 */
export class PushStream extends SseStream {
  #rotation: NodeJS.Timeout | undefined;
  #announced: boolean;
  /** The final result was written: nothing is left to resume. */
  #finished = false;
  readonly #meta: string;
  /** What closes each of this stream's event frames: its `_meta`, then the blank line. */
  readonly #tail: string;
  readonly #tailBytes: Buffer;
  /** Which shared frame heads this stream writes (see {@link liveHead}). */
  readonly #headKey: string;

  constructor(
    res: ServerResponse,
    private readonly options: PushStreamOptions,
  ) {
    super(res, { ...options, storeRetries: STORE_RETRIES });
    this.#announced = !options.announce;
    this.#meta = JSON.stringify(options.meta);
    this.#tail = `${this.#meta}}}\n\n`;
    this.#tailBytes = Buffer.from(this.#tail);
    this.#headKey = `${options.idPrefix}\n${options.name}`;
  }

  /** The last position handed to the reader, matching or not: what heartbeats and results report. */
  get cursor(): string {
    return this.position ?? this.options.after;
  }

  get era(): 'legacy' | 'modern' {
    return this.options.era;
  }

  start(): void {
    const { options } = this;
    if (options.lifetimeMs > 0) {
      this.#rotation = setTimeout(() => (options.era === 'legacy' ? this.disconnect('lifetime') : this.finish('lifetime')), options.lifetimeMs);
    }
    this.open(
      { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' },
      options.retryMs === undefined ? '' : `id: ${options.idPrefix}${options.after}\nretry: ${options.retryMs}\ndata: \n\n`,
    );
  }

  /**
   * Ends the stream with the request's final result (shutdown, session closed, modern
   * rotation), after `terminated` when the client did not ask for the end.
   */
  finish(reason: Extract<StreamEndReason, 'shutdown' | 'session_closed' | 'lifetime'>): void {
    if (this.ended) return;
    this.#terminated(reason);
    const cursor = JSON.stringify(this.cursor);
    const meta = JSON.stringify(this.options.resultMeta);
    const result = this.options.era === 'modern' ? `{"resultType":"complete","cursor":${cursor},"_meta":${meta}}` : `{"cursor":${cursor},"_meta":${meta}}`;
    this.res.write(`event: message\ndata: {"jsonrpc":"2.0","id":${JSON.stringify(this.options.requestId)},"result":${result}}\n\n`);
    this.res.end();
    this.#finished = true;
    this.end({ reason });
  }

  /** Closes the connection without a result, so a legacy client resumes with `Last-Event-ID`. */
  disconnect(reason: Extract<StreamEndReason, 'lifetime' | 'cancelled' | 'replaced'>): void {
    this.end({ reason });
    this.res.end();
  }

  /** A failure ends the stream after `terminated`, which says why. */
  protected override end(end: StreamEnd): void {
    if (!this.ended && end.error) this.#terminated(end.reason);
    super.end(end);
  }

  /** `active` before the first event: where the stream starts, and whether `maxAgeMs` passed over anything to get there. */
  protected override caughtUp(): void {
    if (this.#announced || this.ended) return;
    this.#announced = true;
    this.res.write(this.#notification('notifications/events/active', `{"cursor":${JSON.stringify(this.options.after)},"truncated":${this.options.truncated}`));
  }

  /** Transient trouble: the subscription stays, and the stream reads on from its position after `retryInMs`. */
  protected override retryFrame(retryInMs: number): string {
    return this.#notification('notifications/events/error', `{"error":${JSON.stringify(this.options.transientError(retryInMs))}`);
  }

  #terminated(reason: StreamEndReason): void {
    const error = this.options.terminationError(reason);
    if (error !== undefined) this.res.write(this.#notification('notifications/events/terminated', `{"error":${JSON.stringify(error)}`));
  }

  /** A gap, at the start or mid-stream: `active` again with `truncated` and where delivery resumed. */
  protected gapFrame(gap: Gap): string {
    this.#announced = true;
    return this.#notification('notifications/events/active', `{"cursor":${JSON.stringify(gap.resumedAt)},"truncated":true`);
  }

  protected storedFrame(event: SerializedEvent): string {
    return frameHead(this.options.idPrefix, this.options.name, event) + this.#tail;
  }

  protected liveFrame(event: SerializedEvent, parts: Buffer[]): void {
    parts.push(liveHead(event, this.#headKey, this.options.idPrefix, this.options.name), this.#tailBytes);
  }

  /**
   * The position moves past events the filter skips, so a reconnect from it rescans nothing.
   * On a legacy stream the frame carries it as its SSE id too: `Last-Event-ID` resumes there.
   */
  protected heartbeatFrame(): string {
    const cursor = this.cursor;
    const id = this.options.era === 'legacy' ? `id: ${this.options.idPrefix}${cursor}\n` : '';
    return `${id}${this.#notification('notifications/events/heartbeat', `{"cursor":${JSON.stringify(cursor)}`)}`;
  }

  /** A notification frame; `openParams` is the params object without its closing brace. */
  #notification(method: string, openParams: string): string {
    return `event: message\ndata: {"jsonrpc":"2.0","method":"${method}","params":${openParams},"_meta":${this.#meta}}}\n\n`;
  }

  protected onEnd(end: StreamEnd): void {
    clearTimeout(this.#rotation);
    this.options.onEnd({ ...end, cursor: this.cursor, finished: this.#finished });
  }
}
