import type { ServerResponse } from 'node:http';
import { SUBSCRIPTION_ID_META_KEY } from '@modelcontextprotocol/server';
import type { Event } from '../events/event.js';
import type { EventFilter } from '../events/filter.js';
import { topLevelStrings } from '../events/stored-json.js';
import { type Gap, openReader, type Reader } from '../delivery/reader.js';
import { cutIfBehind, drained } from '../delivery/socket-pacing.js';
import { failureEnd, type StreamEnd, type StreamEndReason } from '../delivery/stream-end.js';
import type { EventLog, SerializedEvent } from '../log/event-log.js';
import { youngEnough } from './event-types.js';

/** How a push stream ended, and where: its position when it stopped. */
export interface PushStreamEnd extends StreamEnd {
  cursor: string;
  /** True when the request's final result was written (nothing left to resume). */
  finished: boolean;
}

export interface PushStreamOptions {
  log: EventLog;
  filter: EventFilter;
  /** The subscribed event name, echoed in every occurrence. */
  name: string;
  /** The `events/stream` request id: the subscription id in every notification's `_meta`. */
  requestId: string | number;
  /** Prepended to each frame's SSE id: `<tag>.` on a legacy session, '' otherwise. */
  idPrefix: string;
  /** Start strictly after this cursor (an event id or `LOG_START`). */
  after: string;
  maxAgeMs: number | undefined;
  heartbeatMs: number;
  /** Unsent bytes one slow reader may hold before it is disconnected to resume by cursor. */
  bufferBytes: number;
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
  /** An event frame was written: the event reached an agent. */
  onDelivered?(eventId: string): void;
  onEnd(end: PushStreamEnd): void;
}

/** Backlog frames go out in writes of about this many characters: a few large writes, not one per event. */
const BACKLOG_WRITE = 64 * 1024;
const FRAME_FIELDS = ['sourceEventId', 'occurredAt'] as const;

/**
 * An event frame up to its `_meta`, the one part that differs from subscription to
 * subscription. The stored JSON goes out as it is; `sourceEventId` and `occurredAt` are
 * copied out of its text as JSON literals — decoding a 1–2 KB event only to copy two strings
 * (and encoding it again) would cost more than the rest of a replay.
 */
function frameHead(idPrefix: string, name: string, event: SerializedEvent): string {
  const { json } = event;
  const fields = topLevelStrings(json, FRAME_FIELDS) ?? literalsOf(JSON.parse(json) as Event);
  return (
    `id: ${idPrefix}${event.id}\nevent: message\ndata: {"jsonrpc":"2.0","method":"notifications/events/event","params":` +
    `{"eventId":${fields.sourceEventId},"name":${JSON.stringify(name)},"timestamp":${fields.occurredAt},"data":${json},"cursor":"${event.id}","_meta":`
  );
}

function literalsOf(event: Event): Record<(typeof FRAME_FIELDS)[number], string> {
  return { sourceEventId: JSON.stringify(event.sourceEventId), occurredAt: JSON.stringify(event.occurredAt) };
}

/**
 * Frame heads of live events, encoded once per event and subscription (name, id prefix)
 * however many streams carry them: a commit fanned out to a thousand streams costs one
 * encoding and a thousand copies, not a thousand encodings. Keyed by the shared object a
 * commit hands every reader.
 */
const liveHeads = new WeakMap<SerializedEvent, Map<string, Buffer>>();

function liveHead(event: SerializedEvent, idPrefix: string, name: string): Buffer {
  let heads = liveHeads.get(event);
  if (heads === undefined) {
    heads = new Map();
    liveHeads.set(event, heads);
  }
  const key = `${idPrefix}\n${name}`;
  let head = heads.get(key);
  if (head === undefined) {
    head = Buffer.from(frameHead(idPrefix, name, event));
    heads.set(key, head);
  }
  return head;
}

/**
 * One `events/stream` response: SSE frames written straight to the socket, so the relay —
 * not a per-connection buffer — decides ids, pacing and limits. The events come from the one
 * replay-then-follow path ({@link openReader}); this class only encodes them: `active`
 * first (with `truncated` when the cursor is gone), the backlog paced by the socket, live
 * events cut off for a reader that fell behind, a gap mid-stream as another `active` with
 * `truncated: true`, and heartbeats carrying the reader's position.
 */
export class PushStream {
  #reader: Reader | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #rotation: NodeJS.Timeout | undefined;
  #announced: boolean;
  #ended = false;
  #frames = 0;
  readonly #meta: string;
  /** What closes each of this stream's event frames: its `_meta`, then the blank line. */
  readonly #tail: string;
  readonly #tailBytes: Buffer;
  readonly openedAt = Date.now();

  constructor(
    private readonly res: ServerResponse,
    private readonly options: PushStreamOptions,
  ) {
    this.#announced = !options.announce;
    this.#meta = JSON.stringify({ [SUBSCRIPTION_ID_META_KEY]: options.requestId });
    this.#tail = `${this.#meta}}}\n\n`;
    this.#tailBytes = Buffer.from(this.#tail);
    res.on('close', () => this.#end({ reason: 'client_closed' }, false));
  }

  /** The last position handed to the reader, matching or not: what heartbeats and results report. */
  get cursor(): string {
    return this.#reader?.position ?? this.options.after;
  }

  get era(): 'legacy' | 'modern' {
    return this.options.era;
  }

  /** Event frames written so far. */
  get framesWritten(): number {
    return this.#frames;
  }

  start(): void {
    const { res, options } = this;
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    if (options.retryMs !== undefined) res.write(`id: ${options.idPrefix}${options.after}\nretry: ${options.retryMs}\ndata: \n\n`);
    if (options.lifetimeMs > 0) {
      this.#rotation = setTimeout(() => (options.era === 'legacy' ? this.disconnect('lifetime') : this.finish('lifetime')), options.lifetimeMs);
    }
    this.#heartbeat = setInterval(() => this.#heartbeatFrame(), options.heartbeatMs);
    this.#reader = openReader(
      options.log,
      { after: options.after, filter: options.filter },
      {
        events: (events, live) => (live ? this.#sendLive(events) : this.#sendBacklog(events)),
        gap: (gap) => this.#gap(gap),
        live: () => this.#announce(),
        failed: (error) => this.#end(failureEnd(error), false),
      },
    );
  }

  /** Ends the stream with the request's final result (shutdown, session closed, modern rotation). */
  finish(reason: Extract<StreamEndReason, 'shutdown' | 'session_closed' | 'lifetime'>): void {
    if (this.#ended) return;
    const cursor = JSON.stringify(this.cursor);
    const result = this.options.era === 'modern' ? `{"resultType":"complete","cursor":${cursor}}` : `{"cursor":${cursor}}`;
    this.res.write(`event: message\ndata: {"jsonrpc":"2.0","id":${JSON.stringify(this.options.requestId)},"result":${result}}\n\n`);
    this.res.end();
    this.#end({ reason }, true);
  }

  /** Closes the connection without a result, so a legacy client resumes with `Last-Event-ID`. */
  disconnect(reason: Extract<StreamEndReason, 'lifetime' | 'cancelled' | 'replaced'>): void {
    this.#end({ reason }, false);
    this.res.end();
  }

  /** `active` before the first event: the cursor asked for, not truncated. */
  #announce(): void {
    if (this.#announced) return;
    this.#announced = true;
    this.#notify('notifications/events/active', `{"cursor":${JSON.stringify(this.options.after)},"truncated":false`);
  }

  /** A gap, at the start or mid-stream: `active` again with `truncated` and where delivery resumed. */
  #gap(gap: Gap): void {
    this.#announced = true;
    this.#notify('notifications/events/active', `{"cursor":${JSON.stringify(gap.resumedAt)},"truncated":true`);
  }

  /** The backlog is paced by the reader, not bounded: the relay waits for the socket to drain. */
  async #sendBacklog(events: readonly SerializedEvent[]): Promise<void> {
    this.#announce();
    const { idPrefix, name, maxAgeMs } = this.options;
    const now = Date.now();
    let frames = '';
    for (const event of events) {
      if (this.#ended) return;
      if (!youngEnough(event, maxAgeMs, now)) continue;
      frames += frameHead(idPrefix, name, event) + this.#tail;
      this.#delivered(event.id);
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

  /** Live frames are not waited for: a reader that fell behind is cut and resumes by cursor. */
  #sendLive(events: readonly SerializedEvent[]): void {
    this.#announce();
    const { idPrefix, name, maxAgeMs, bufferBytes } = this.options;
    const now = Date.now();
    for (const event of events) {
      if (this.#ended || cutIfBehind(this.res, bufferBytes, () => this.#end({ reason: 'reader_too_slow' }, false))) return;
      if (!youngEnough(event, maxAgeMs, now)) continue;
      this.res.write(Buffer.concat([liveHead(event, idPrefix, name), this.#tailBytes]));
      this.#delivered(event.id);
    }
  }

  #delivered(eventId: string): void {
    this.#frames++;
    this.options.onDelivered?.(eventId);
  }

  /**
   * The position moves past events the filter skips, so a reconnect from it rescans nothing.
   * On a legacy stream the frame carries it as its SSE id too: `Last-Event-ID` resumes there.
   */
  #heartbeatFrame(): void {
    if (this.#ended) return;
    const cursor = this.cursor;
    const id = this.options.era === 'legacy' ? `id: ${this.options.idPrefix}${cursor}\n` : '';
    this.res.write(`${id}${this.#notification('notifications/events/heartbeat', `{"cursor":${JSON.stringify(cursor)}`)}`);
  }

  /** A notification frame; `openParams` is the params object without its closing brace. */
  #notify(method: string, openParams: string): void {
    if (!this.#ended) this.res.write(this.#notification(method, openParams));
  }

  #notification(method: string, openParams: string): string {
    return `event: message\ndata: {"jsonrpc":"2.0","method":"${method}","params":${openParams},"_meta":${this.#meta}}}\n\n`;
  }

  #end(end: StreamEnd, finished: boolean): void {
    if (this.#ended) return;
    this.#ended = true;
    const cursor = this.cursor;
    this.#reader?.stop();
    clearInterval(this.#heartbeat);
    clearTimeout(this.#rotation);
    this.options.onEnd({ ...end, cursor, finished });
    if (end.error) this.res.destroy();
  }
}
