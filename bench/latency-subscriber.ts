import { connect, type Socket } from 'node:net';
import { MODERN_VERSION, sharedNow, subscriptionBody } from './sse-subscription.js';

/**
 * One subscriber of the `latency` benchmark, of one of the three kinds a relay serves push on:
 * a 2026-07-28 `events/stream`, a 2025-11-25 session's `events/stream`, or `GET /feed`. Each
 * holds its own socket (no pooling) and notes, for every event frame, the event's id and the
 * moment its last byte arrived (shared clock). Frames are cut at blank lines and only an event
 * frame's `id:` line is decoded, so reading costs the same for every server.
 */

export type SubscriberKind = 'modern' | 'legacy' | 'feed';

export const LEGACY_VERSION = '2025-11-25';

const FRAME_END = Buffer.from('\n\n');
const ID_FIELD = Buffer.from('id: ');
/** An MCP event notification (both eras); heartbeats, `active` and results carry other methods. */
const EVENT_METHOD = Buffer.from('"method":"notifications/events/event"');
/** A `/feed` frame that is not an event: heartbeats and gaps. */
const FEED_OTHER = [Buffer.from('\nevent: heartbeat\n'), Buffer.from('\nevent: truncated\n')];
/** Where those markers must be: after an `id:` line (a ULID, with a session's stream tag) and `event: message`. */
const FRAME_START = 160;

export interface FrameSink {
  /**
   * An event frame arrived, whole, at `at`; its event's log id is the bytes of `frame` in
   * [`idStart`, `idEnd`) (valid only during the call: nothing is allocated per frame).
   */
  event(frame: Buffer, idStart: number, idEnd: number, at: number): void;
}

/**
 * Splits an SSE body into frames and hands over the event frames. JSON data holds no raw
 * newline, so a blank line cannot occur inside a frame. A frame split between two reads is
 * put together in one scratch buffer that only ever grows: a reader that made a Buffer per
 * read (concatenating, keeping a read's tail) was paused by mark-compacts that the external
 * memory forced, 2–19 ms every few seconds, and every frame waiting meanwhile counted
 * against the server.
 */
export class EventFrameReader {
  #carry = Buffer.allocUnsafe(16 * 1024);
  /** Bytes of an unfinished frame in {@link #carry}. */
  #carried = 0;

  constructor(
    private readonly kind: SubscriberKind,
    private readonly sink: FrameSink,
  ) {}

  feed(chunk: Buffer): void {
    const at = sharedNow();
    let start = 0;
    if (this.#carried > 0) {
      if (this.#carry[this.#carried - 1] === 0x0a && chunk[0] === 0x0a) {
        // The frame's blank line straddles the reads.
        this.#frame(this.#carry, 0, this.#carried - 1, at);
        start = 1;
      } else {
        const end = chunk.indexOf(FRAME_END);
        if (end < 0) {
          this.#keep(chunk, 0);
          return;
        }
        this.#keep(chunk.subarray(0, end), 0);
        this.#frame(this.#carry, 0, this.#carried, at);
        start = end + 2;
      }
      this.#carried = 0;
    }
    for (let end = chunk.indexOf(FRAME_END, start); end >= 0; end = chunk.indexOf(FRAME_END, start)) {
      this.#frame(chunk, start, end, at);
      start = end + 2;
    }
    if (start < chunk.length) this.#keep(chunk, start);
  }

  /** Appends `bytes[from..]` to the unfinished frame. */
  #keep(bytes: Buffer, from: number): void {
    const length = bytes.length - from;
    if (this.#carried + length > this.#carry.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.#carry.length * 2, this.#carried + length));
      this.#carry.copy(grown, 0, 0, this.#carried);
      this.#carry = grown;
    }
    bytes.copy(this.#carry, this.#carried, from);
    this.#carried += length;
  }

  /** The frame in `data[start, end)`; read in place, by index. */
  #frame(data: Buffer, start: number, end: number, at: number): void {
    for (let i = 0; i < ID_FIELD.length; i++) if (data[start + i] !== ID_FIELD[i]) return;
    // Both markers sit in a frame's first line or two: no need to scan a whole payload.
    const head = data.subarray(start, Math.min(end, start + FRAME_START));
    const isEvent = this.kind === 'feed' ? FEED_OTHER.every((other) => head.indexOf(other) < 0) : head.indexOf(EVENT_METHOD) >= 0;
    if (!isEvent) return;
    const idEnd = data.indexOf(0x0a, start);
    // A 2025-11-25 session's frame ids are `<stream tag>.<event id>`.
    const dot = data.lastIndexOf(0x2e, idEnd);
    this.sink.event(data, dot > start ? dot + 1 : start + ID_FIELD.length, idEnd, at);
  }
}

export interface SubscriberSpec {
  kind: SubscriberKind;
  /** `http://host:port` of the server. */
  url: string;
  /** Bearer key, if the server wants one. */
  key: string | undefined;
  /** JSON-RPC request id of the stream (the subscription id in its frames). */
  id: number;
}

export interface Subscriber {
  /** Resolves once the response head is in and the stream is live. */
  started: Promise<void>;
  /** Resolves when the response ends or fails, whoever ended it. */
  ended: Promise<void>;
  close(): void;
}

const clientInfo = { name: 'latency-bench', version: '1' };

/** A 2025-11-25 session for one stream: `initialize` declaring the events capability; resolves with the session id. */
async function legacySession(spec: SubscriberSpec): Promise<string> {
  const response = await fetch(`${spec.url}/mcp`, {
    method: 'POST',
    headers: { ...auth(spec), 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: LEGACY_VERSION, capabilities: { experimental: { events: {} } }, clientInfo } }),
  });
  const session = response.headers.get('mcp-session-id');
  await response.arrayBuffer();
  if (response.status !== 200 || session === null) throw new Error(`initialize answered ${response.status} without a session`);
  return session;
}

function auth(spec: SubscriberSpec): Record<string, string> {
  return spec.key === undefined ? {} : { authorization: `Bearer ${spec.key}` };
}

/** The request that opens the stream. */
async function streamRequest(spec: SubscriberSpec): Promise<{ method: string; path: string; headers: Record<string, string | number>; body?: string }> {
  if (spec.kind === 'feed') return { method: 'GET', path: '/feed', headers: { ...auth(spec), accept: 'text/event-stream' } };
  const base = { ...auth(spec), 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  if (spec.kind === 'modern') {
    const body = subscriptionBody(spec.id, null);
    return { method: 'POST', path: '/mcp', body, headers: { ...base, 'content-length': Buffer.byteLength(body), 'mcp-protocol-version': MODERN_VERSION, 'mcp-method': 'events/stream' } };
  }
  const session = await legacySession(spec);
  const body = JSON.stringify({ jsonrpc: '2.0', id: spec.id, method: 'events/stream', params: { name: 'cx_events', cursor: null } });
  return { method: 'POST', path: '/mcp', body, headers: { ...base, 'content-length': Buffer.byteLength(body), 'mcp-session-id': session, 'mcp-protocol-version': LEGACY_VERSION } };
}

/**
 * Opens a live subscription (no cursor: events committed from now on) over a raw TCP socket:
 * the HTTP/1.1 request written by hand, the response's chunked body undone by
 * {@link ChunkedBody}. One reader of 100,000 frames/s on one core cannot afford `http`'s
 * parser and stream machinery per read; the frames are the same bytes either way. `started`
 * resolves on the first body bytes: every kind writes something (`active`, or `retry:`) once live.
 */
export function subscribe(spec: SubscriberSpec, sink: FrameSink): Subscriber {
  const frames = new EventFrameReader(spec.kind, sink);
  let socket: Socket | undefined;
  let closed = false;
  let onStart!: () => void;
  let onFail!: (error: Error) => void;
  const started = new Promise<void>((resolve, reject) => {
    onStart = resolve;
    onFail = reject;
  });
  started.catch(() => undefined);
  const ended = (async () => {
    const { method, path, headers, body } = await streamRequest(spec);
    if (closed) return;
    const { hostname, port } = new URL(spec.url);
    const head = [`${method} ${path} HTTP/1.1`, `host: ${hostname}:${port}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), '', ''].join('\r\n');
    await new Promise<void>((resolveEnd) => {
      const response = new ChunkedBody(
        (data) => {
          onStart();
          frames.feed(data);
        },
        (error) => {
          onFail(error);
          socket?.destroy();
        },
      );
      // Reads land in one buffer shared by every subscriber of this process, handed over
      // without a stream or a Buffer per read; whatever is kept past the call is copied.
      socket = connect({ host: hostname, port: Number(port), onread: { buffer: READ_BUFFER, callback: (n) => readInto(response, n) } }, () =>
        socket!.write(head + (body ?? '')),
      );
      socket.on('error', (error) => onFail(error));
      socket.on('close', () => resolveEnd());
    });
  })().catch((error: unknown) => onFail(error instanceof Error ? error : new Error(String(error))));
  void ended.then(() => onFail(new Error(`the ${spec.kind} stream ended before its first frame`)));
  return {
    started,
    ended,
    close: () => {
      closed = true;
      socket?.destroy();
    },
  };
}

const HEAD_END = Buffer.from('\r\n\r\n');
const READ_BUFFER = Buffer.allocUnsafe(1024 * 1024);

/** A read of `n` bytes into {@link READ_BUFFER}; true: keep reading. */
function readInto(response: ChunkedBody, n: number): boolean {
  response.feed(READ_BUFFER.subarray(0, n));
  return true;
}

/**
 * An HTTP/1.1 response to an SSE request, read off the socket: its head is checked (200,
 * `text/event-stream`, chunked), then each chunk's data in the read is handed on in place
 * (a frame split between chunks or reads is put together by {@link EventFrameReader}).
 */
class ChunkedBody {
  #head: Buffer | undefined = Buffer.alloc(0);
  /** Data bytes left in the current chunk; -1 while reading a size line, -2 while skipping a chunk's CRLF. */
  #left = -1;
  #sizeLine = '';
  #crlf = 0;

  constructor(
    private readonly onData: (data: Buffer) => void,
    private readonly onError: (error: Error) => void,
  ) {}

  feed(chunk: Buffer): void {
    if (this.#head !== undefined) {
      const head = Buffer.concat([this.#head, chunk]);
      const end = head.indexOf(HEAD_END);
      if (end < 0) {
        this.#head = head;
        return;
      }
      const text = head.toString('latin1', 0, end).toLowerCase();
      this.#head = undefined;
      if (!text.startsWith('http/1.1 200') || !text.includes('content-type: text/event-stream') || !text.includes('transfer-encoding: chunked')) {
        this.onError(new Error(`the subscription was answered: ${text.split('\r\n')[0]}`));
        return;
      }
      chunk = head.subarray(end + HEAD_END.length);
    }
    let i = 0;
    while (i < chunk.length) {
      if (this.#left > 0) {
        const take = Math.min(this.#left, chunk.length - i);
        this.onData(chunk.subarray(i, i + take));
        this.#left -= take;
        i += take;
        if (this.#left === 0) this.#left = -2;
      } else if (this.#left === -2) {
        // The CRLF after a chunk's data, which may straddle two reads.
        const skip = Math.min(2 - this.#crlf, chunk.length - i);
        this.#crlf += skip;
        i += skip;
        if (this.#crlf === 2) {
          this.#crlf = 0;
          this.#left = -1;
        }
      } else {
        const eol = chunk.indexOf(0x0a, i);
        if (eol < 0) {
          this.#sizeLine += chunk.toString('latin1', i);
          break;
        }
        const size = parseInt(this.#sizeLine + chunk.toString('latin1', i, eol), 16);
        this.#sizeLine = '';
        i = eol + 1;
        // The last chunk (size 0) ends the body; the socket closes after it.
        this.#left = size > 0 ? size : -1;
      }
    }
  }
}
