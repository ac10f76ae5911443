import { type ClientRequest, type IncomingMessage, request } from 'node:http';

/**
 * One `events/stream` subscription as the `scale` benchmark's load generators hold it: a
 * 2026-07-28 request over plain `node:http` (no pooling: one socket each), its response
 * read by {@link FrameCounter}. The relay and the bare SSE server get the same request and
 * are read by the same code, so neither side of a ratio is parsed more cheaply.
 */

export const MODERN_VERSION = '2026-07-28';
export const SUBSCRIPTION_ID_META_KEY = 'io.modelcontextprotocol/subscriptionId';

/** A clock shared by the processes of one machine, in milliseconds with sub-ms resolution. */
export function sharedNow(): number {
  return performance.timeOrigin + performance.now();
}

const FRAME_END = Buffer.from('\n\n');
const ID_FIELD = 0x69; // 'i': only event frames start with `id:` (heartbeats and results have none)
const NEWLINE = 0x0a;

/**
 * Counts the event frames of an SSE body by bytes: a frame ends at a blank line, and an event
 * frame is one whose first field is `id:`. JSON data holds no raw newline, so `\n\n` cannot
 * occur inside a frame. This is what a cheap consumer does before it parses anything; it
 * costs the same for every server.
 */
export class FrameCounter {
  events = 0;
  bytes = 0;
  #atFrameStart = true;
  #isEvent = false;
  /** The previous chunk ended with a lone `\n`: a `\n` first in the next one ends the frame. */
  #pendingNewline = false;

  constructor(private readonly onEvent: (index: number) => void) {}

  feed(chunk: Buffer): void {
    this.bytes += chunk.length;
    let i = 0;
    if (this.#pendingNewline && chunk.length > 0 && chunk[0] === NEWLINE) {
      this.#frameEnd();
      i = 1;
    }
    for (;;) {
      if (this.#atFrameStart && i < chunk.length) {
        this.#isEvent = chunk[i] === ID_FIELD;
        this.#atFrameStart = false;
      }
      const end = chunk.indexOf(FRAME_END, i);
      if (end < 0) break;
      this.#frameEnd();
      i = end + 2;
    }
    this.#pendingNewline = chunk.length > i && chunk[chunk.length - 1] === NEWLINE;
  }

  #frameEnd(): void {
    if (this.#isEvent) this.onEvent(this.events++);
    this.#atFrameStart = true;
    this.#isEvent = false;
  }
}

export interface SubscriptionSpec {
  /** `http://host:port` of the server; the request goes to `/mcp`. */
  url: string;
  /** The JSON-RPC request id: the subscription id in every frame's `_meta`. */
  id: number;
  /** Replay after this cursor; `null`: from the head (live only). */
  cursor: string | null;
}

export interface Subscription {
  counter: FrameCounter;
  /** Resolves once the first frame (`notifications/events/active`) is in: the stream is live. */
  started: Promise<void>;
  /** Resolves when the response ends or fails, whoever ended it. */
  ended: Promise<void>;
  close(): void;
}

export function subscriptionBody(id: number, cursor: string | null): string {
  const meta = {
    'io.modelcontextprotocol/protocolVersion': MODERN_VERSION,
    'io.modelcontextprotocol/clientInfo': { name: 'scale-bench', version: '1' },
    'io.modelcontextprotocol/clientCapabilities': { events: {} },
  };
  return JSON.stringify({ jsonrpc: '2.0', id, method: 'events/stream', params: { name: 'cx_events', cursor, _meta: meta } });
}

export function subscribe(spec: SubscriptionSpec, onEvent: (index: number) => void): Subscription {
  const counter = new FrameCounter(onEvent);
  const body = subscriptionBody(spec.id, spec.cursor);
  let req: ClientRequest | undefined;
  let onStart!: () => void;
  let onFail!: (error: Error) => void;
  const started = new Promise<void>((resolve, reject) => {
    onStart = resolve;
    onFail = reject;
  });
  const ended = new Promise<void>((resolveEnd) => {
    req = request(
      `${spec.url}/mcp`,
      {
        method: 'POST',
        agent: false,
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'content-length': Buffer.byteLength(body),
          'mcp-protocol-version': MODERN_VERSION,
          'mcp-method': 'events/stream',
        },
      },
      (res: IncomingMessage) => {
        if (res.statusCode !== 200 || !String(res.headers['content-type']).startsWith('text/event-stream')) {
          onFail(new Error(`events/stream answered ${res.statusCode} ${res.headers['content-type']}`));
          res.resume();
          res.on('end', resolveEnd);
          return;
        }
        res.once('data', () => onStart());
        res.on('data', (chunk: Buffer) => counter.feed(chunk));
        res.on('end', resolveEnd);
        res.on('error', () => resolveEnd());
        res.on('close', resolveEnd);
      },
    );
    req.on('error', (error) => {
      onFail(error);
      resolveEnd();
    });
    req.end(body);
  });
  void ended.then(() => onFail(new Error('the stream ended before its first frame')));
  // A replay does not wait for `started`; its failure then shows as a short count instead.
  started.catch(() => undefined);
  return { counter, started, ended, close: () => req?.destroy() };
}
