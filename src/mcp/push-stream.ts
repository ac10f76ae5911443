import type { ServerResponse } from 'node:http';
import { SUBSCRIPTION_ID_META_KEY } from '@modelcontextprotocol/server';
import type { Event } from '../events/event.js';
import type { EventFilter } from '../events/filter.js';
import { LOG_START } from '../events/ulid.js';
import type { EventLog, Follower } from '../log/event-log.js';
import { toOccurrence, youngEnough } from './event-types.js';

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
  onEnd(reason: StreamEnd, cursor: string): void;
}

const BACKLOG_PAGE = 500;
/** JSON of each event, made once however many streams carry it. */
const eventJson = new WeakMap<Event, string>();

function jsonOf(event: Event): string {
  let json = eventJson.get(event);
  if (json === undefined) {
    json = JSON.stringify(event);
    eventJson.set(event, json);
  }
  return json;
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
  readonly #meta: string;

  constructor(
    private readonly res: ServerResponse,
    private readonly options: PushStreamOptions,
  ) {
    this.#cursor = options.after;
    this.#meta = JSON.stringify({ [SUBSCRIPTION_ID_META_KEY]: options.requestId });
    res.on('close', () => this.#end('disconnected'));
  }

  get cursor(): string {
    return this.#cursor;
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
      let page = await options.log.read({ after: options.after, filter: options.filter, limit: BACKLOG_PAGE });
      // After a truncated cursor the stream starts before the oldest retained event.
      const from = page.truncated ? LOG_START : options.after;
      if (options.announce) this.#notify('notifications/events/active', `{"cursor":${JSON.stringify(from)},"truncated":${page.truncated}`);
      if (options.lifetimeMs > 0) {
        this.#rotation = setTimeout(() => (options.era === 'legacy' ? this.disconnect() : this.finish()), options.lifetimeMs);
      }
      this.#heartbeat = setInterval(() => this.#notify('notifications/events/heartbeat', `{"cursor":${JSON.stringify(this.#cursor)}`), options.heartbeatMs);
      for (;;) {
        for (const event of page.events) {
          // The backlog is paced by the reader, not bounded: the relay can wait for it to drain.
          this.#send(event, false);
          if (res.writableNeedDrain) await this.#drained();
          if (this.#ended) return;
        }
        if (page.cursor !== null) this.#cursor = page.cursor;
        if (this.#ended || !page.hasMore) break;
        page = await options.log.read({ after: this.#cursor, filter: options.filter, limit: BACKLOG_PAGE });
      }
      if (this.#ended) return;
      this.#follower = options.log.follow(
        { after: this.#cursor, filter: options.filter },
        { onEvent: (event) => this.#send(event), onError: () => this.#end('failed') },
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

  #drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.res.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      this.res.on('drain', done);
      this.res.on('close', done);
    });
  }

  /**
   * Writes one event frame. A live one (`bounded`) first checks what earlier frames left
   * unsent: Node counts a frame as unsent until the kernel has taken it, so checking after
   * the write would drop a healthy reader for any frame larger than the bound.
   */
  #send(event: Event, bounded = true): void {
    if (this.#ended) return;
    if (bounded && this.res.writableLength > this.options.bufferBytes) {
      this.#end('overflow');
      this.res.destroy();
      return;
    }
    this.#cursor = event.id;
    if (!youngEnough(event, this.options.maxAgeMs, Date.now())) return;
    const occurrence = toOccurrence(event, this.options.name);
    const params =
      `{"eventId":${JSON.stringify(occurrence.eventId)},"name":${JSON.stringify(occurrence.name)},` +
      `"timestamp":${JSON.stringify(occurrence.timestamp)},"data":${jsonOf(event)},"cursor":"${event.id}","_meta":${this.#meta}}`;
    this.res.write(`id: ${this.options.idPrefix}${event.id}\nevent: message\ndata: {"jsonrpc":"2.0","method":"notifications/events/event","params":${params}}\n\n`);
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
