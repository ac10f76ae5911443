import type { ServerResponse } from 'node:http';
import { SUBSCRIPTION_ID_META_KEY } from '@modelcontextprotocol/server';
import type { Event } from '../events/event.js';
import type { EventFilter } from '../events/filter.js';
import { LOG_START } from '../events/ulid.js';
import type { EventLog, Follower, SerializedEvent } from '../log/event-log.js';
import { cutIfBehind, drained, jsonOf } from '../feed/socket-pacing.js';
import { youngEnough } from './event-types.js';

export type StreamEnd = 'finished' | 'disconnected' | 'overflow' | 'failed';

export interface PushStreamOptions {
  log: EventLog;
  filter: EventFilter;
  /** The subscribed event name, echoed in every occurrence. */
  name: string;
  /** The `events/stream` request id: the subscription id in every notification's `_meta`. */
  requestId: string | number;
  /** Prepended to each event frame's SSE id: `<tag>.` on a legacy session, '' otherwise. */
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
  onEnd(reason: StreamEnd, cursor: string): void;
}

/** The stores scan 1000 rows at a time: a smaller page would fetch (and decode) rows only to drop them. */
const BACKLOG_PAGE = 1000;
/** Backlog frames go out in writes of about this many characters: a few large writes, not one per event. */
const BACKLOG_WRITE = 64 * 1024;

/** What an event frame carries besides `_meta`; `eventId` and `timestamp` as JSON string literals. */
interface FrameFields {
  id: string;
  eventId: string;
  timestamp: string;
  json: string;
}

/** An event frame up to its `_meta`, the one part that differs from subscription to subscription. */
function frameHead(idPrefix: string, name: string, f: FrameFields): string {
  return (
    `id: ${idPrefix}${f.id}\nevent: message\ndata: {"jsonrpc":"2.0","method":"notifications/events/event","params":` +
    `{"eventId":${f.eventId},"name":${JSON.stringify(name)},"timestamp":${f.timestamp},"data":${f.json},"cursor":"${f.id}","_meta":`
  );
}

function decodedFields(event: Event): FrameFields {
  return { id: event.id, eventId: JSON.stringify(event.sourceEventId), timestamp: JSON.stringify(event.occurredAt), json: jsonOf(event) };
}

/**
 * Frame heads of live events, encoded once per event and subscription (name, id prefix)
 * however many streams carry them: a commit fanned out to a thousand streams costs one
 * serialization and a thousand copies, not a thousand serializations.
 */
const liveHeads = new WeakMap<Event, Map<string, Buffer>>();

function liveHead(event: Event, idPrefix: string, name: string): Buffer {
  let heads = liveHeads.get(event);
  if (heads === undefined) {
    heads = new Map();
    liveHeads.set(event, heads);
  }
  const key = `${idPrefix}\n${name}`;
  let head = heads.get(key);
  if (head === undefined) {
    head = Buffer.from(frameHead(idPrefix, name, decodedFields(event)));
    heads.set(key, head);
  }
  return head;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;

/** The index just past the JSON string starting at `start`, or -1. */
function stringEnd(json: string, start: number): number {
  for (let q = json.indexOf('"', start + 1); q >= 0; q = json.indexOf('"', q + 1)) {
    let backslashes = 0;
    while (json.charCodeAt(q - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return q + 1;
  }
  return -1;
}

/** The index just past the JSON value starting at `start` (compact JSON), or -1. */
function valueEnd(json: string, start: number): number {
  if (json.charCodeAt(start) === QUOTE) return stringEnd(json, start);
  let depth = 0;
  for (let i = start; i < json.length; i++) {
    const c = json[i];
    if (c === '"') {
      i = stringEnd(json, i) - 1;
      if (i < 0) return -1;
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      if (depth === 0) return i;
      if (--depth === 0) return i + 1;
    } else if (c === ',' && depth === 0) return i;
  }
  return -1;
}

/**
 * A backlog frame carries the stored JSON as it is; decoding a 1–2 KB event only to copy two
 * strings out of it (and encoding it again) would cost more than the rest of a replay.
 * This walks the top-level keys of the stored text, skipping values, until it has
 * `sourceEventId` and `occurredAt`. Anything unexpected: the event is decoded instead.
 */
function storedFields(stored: SerializedEvent): FrameFields {
  const { json } = stored;
  let eventId: string | undefined;
  let timestamp: string | undefined;
  for (let i = 1; (eventId === undefined || timestamp === undefined) && json.charCodeAt(i) === QUOTE; ) {
    const keyEnd = stringEnd(json, i);
    if (keyEnd < 0 || json.charCodeAt(keyEnd) !== COLON) break;
    const key = json.slice(i + 1, keyEnd - 1);
    const end = valueEnd(json, keyEnd + 1);
    if (end < 0) break;
    if (key === 'sourceEventId' || key === 'occurredAt') {
      if (json.charCodeAt(keyEnd + 1) !== QUOTE) break;
      if (key === 'sourceEventId') eventId = json.slice(keyEnd + 1, end);
      else timestamp = json.slice(keyEnd + 1, end);
    }
    i = end + 1;
  }
  if (eventId === undefined || timestamp === undefined) return decodedFields(JSON.parse(json) as Event);
  return { id: stored.id, eventId, timestamp, json };
}

/**
 * One `events/stream` response: SSE frames written straight to the socket, so the relay —
 * not a per-connection buffer — decides ids, pacing and limits. It sends `active`, replays
 * the backlog from the log page by page (waiting for the socket to drain), then follows the
 * log live from exactly where the backlog ended, with a heartbeat data frame in between.
 */
export class PushStream {
  #cursor: string;
  #follower: Follower | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #rotation: NodeJS.Timeout | undefined;
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
    this.#cursor = options.after;
    this.#meta = JSON.stringify({ [SUBSCRIPTION_ID_META_KEY]: options.requestId });
    this.#tail = `${this.#meta}}}\n\n`;
    this.#tailBytes = Buffer.from(this.#tail);
    res.on('close', () => this.#end('disconnected'));
  }

  get cursor(): string {
    return this.#cursor;
  }

  get era(): 'legacy' | 'modern' {
    return this.options.era;
  }

  /** Event frames written so far. */
  get framesWritten(): number {
    return this.#frames;
  }

  async start(): Promise<void> {
    const { res, options } = this;
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    if (options.retryMs !== undefined) res.write(`id: ${options.idPrefix}${options.after}\nretry: ${options.retryMs}\ndata: \n\n`);
    try {
      let page = await options.log.readSerialized({ after: options.after, filter: options.filter, limit: BACKLOG_PAGE });
      // After a truncated cursor the stream starts before the oldest retained event.
      const from = page.truncated ? LOG_START : options.after;
      if (options.announce) this.#notify('notifications/events/active', `{"cursor":${JSON.stringify(from)},"truncated":${page.truncated}`);
      if (options.lifetimeMs > 0) {
        this.#rotation = setTimeout(() => (options.era === 'legacy' ? this.disconnect() : this.finish()), options.lifetimeMs);
      }
      this.#heartbeat = setInterval(() => this.#notify('notifications/events/heartbeat', `{"cursor":${JSON.stringify(this.#cursor)}`), options.heartbeatMs);
      for (;;) {
        let frames = '';
        for (const event of page.events) {
          frames += this.#storedFrame(event);
          if (frames.length < BACKLOG_WRITE) continue;
          await this.#writeBacklog(frames);
          frames = '';
          if (this.#ended) return;
        }
        await this.#writeBacklog(frames);
        if (page.cursor !== null) this.#cursor = page.cursor;
        if (this.#ended || !page.hasMore) break;
        page = await options.log.readSerialized({ after: this.#cursor, filter: options.filter, limit: BACKLOG_PAGE });
      }
      if (this.#ended) return;
      this.#follower = options.log.follow(
        { after: this.#cursor, filter: options.filter },
        { onEvent: (event) => this.#sendLive(event), onError: () => this.#end('failed') },
      );
    } catch {
      this.#end('failed');
    }
  }

  /** Ends the stream with the request's final result (server shutdown, or a limit reached). */
  finish(): void {
    if (this.#ended) return;
    const result = this.options.era === 'modern' ? `{"resultType":"complete","cursor":${JSON.stringify(this.#cursor)}}` : `{"cursor":${JSON.stringify(this.#cursor)}}`;
    this.res.write(`event: message\ndata: {"jsonrpc":"2.0","id":${JSON.stringify(this.options.requestId)},"result":${result}}\n\n`);
    this.res.end();
    this.#end('finished');
  }

  /** Closes the connection without a result, so a legacy client resumes with `Last-Event-ID`. */
  disconnect(): void {
    this.#end('disconnected');
    this.res.end();
  }

  /** Writes one live event frame, refused to a reader that fell behind. */
  #sendLive(event: Event): void {
    if (this.#ended || cutIfBehind(this.res, this.options.bufferBytes, () => this.#end('overflow'))) return;
    this.#cursor = event.id;
    if (!youngEnough(event, this.options.maxAgeMs, Date.now())) return;
    this.#write(event.id, Buffer.concat([liveHead(event, this.options.idPrefix, this.options.name), this.#tailBytes]));
  }

  /**
   * One backlog frame around the stored JSON, '' for an event past the age limit (the only
   * case that needs the event decoded). The caller writes it before it next awaits.
   */
  #storedFrame(stored: SerializedEvent): string {
    if (this.#ended) return '';
    this.#cursor = stored.id;
    if (this.options.maxAgeMs !== undefined && !youngEnough(JSON.parse(stored.json) as Event, this.options.maxAgeMs, Date.now())) return '';
    this.#delivered(stored.id);
    return frameHead(this.options.idPrefix, this.options.name, storedFields(stored)) + this.#tail;
  }

  /** The backlog is paced by the reader, not bounded: the relay can wait for it to drain. */
  async #writeBacklog(frames: string): Promise<void> {
    if (this.#ended || frames === '') return;
    this.res.write(frames);
    if (this.res.writableNeedDrain) await drained(this.res);
  }

  #write(eventId: string, frame: Buffer): void {
    this.res.write(frame);
    this.#delivered(eventId);
  }

  #delivered(eventId: string): void {
    this.#frames++;
    this.options.onDelivered?.(eventId);
  }

  /** A notification frame; `openParams` is the params object without its closing brace. */
  #notify(method: string, openParams: string): void {
    if (this.#ended) return;
    this.res.write(`event: message\ndata: {"jsonrpc":"2.0","method":"${method}","params":${openParams},"_meta":${this.#meta}}}\n\n`);
  }

  #end(reason: StreamEnd): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#follower?.stop();
    clearInterval(this.#heartbeat);
    clearTimeout(this.#rotation);
    this.options.onEnd(reason, this.#cursor);
    if (reason === 'failed') this.res.destroy();
  }
}
