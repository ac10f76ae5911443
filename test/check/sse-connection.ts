import { request, type IncomingMessage } from 'node:http';
import { createParser, type EventSourceMessage } from 'eventsource-parser';

/** How long a request may wait for its response head before the checker gives up on it. */
const HEAD_MS = 15_000;

export interface SseRequest {
  /** e.g. `http://127.0.0.1:41234` */
  base: string;
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
  onFrame(frame: EventSourceMessage): void;
}

/** The response head; `text` is the whole body of an answer that is not an event stream. */
export interface SseHead {
  status: number;
  stream: boolean;
  text: string;
}

/**
 * One SSE response over node:http on its own socket (no agent), parsed with
 * eventsource-parser. `pause()` stops reading the socket for real: node:http stops pulling
 * from the kernel once the response's small buffer is full, so the relay's writes pile up in
 * the kernel and then in the relay — a reader that fell behind, not one that dropped frames.
 */
export class SseConnection {
  /** Resolves with the head, or rejects when no answer came (refused, reset, timed out). */
  readonly head: Promise<SseHead>;
  /** Resolves once the connection is over, however it ended. */
  readonly done: Promise<void>;
  #res: IncomingMessage | undefined;
  #paused = false;
  #destroy: () => void = () => undefined;

  constructor(spec: SseRequest) {
    const url = new URL(spec.path, spec.base);
    let settleDone!: () => void;
    this.done = new Promise((resolve) => (settleDone = resolve));
    this.head = new Promise<SseHead>((resolve, reject) => {
      const headers = { ...spec.headers, ...(spec.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(spec.body)) }) };
      const req = request({ host: url.hostname, port: url.port, path: url.pathname + url.search, method: spec.method, headers, agent: false });
      this.#destroy = () => req.destroy();
      const timer = setTimeout(() => req.destroy(new Error(`no response within ${HEAD_MS} ms`)), HEAD_MS);
      req.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
        settleDone();
      });
      req.on('close', () => {
        clearTimeout(timer);
        settleDone();
      });
      req.on('response', (res) => {
        clearTimeout(timer);
        this.#res = res;
        res.on('error', () => undefined);
        const stream = res.headers['content-type']?.includes('text/event-stream') === true;
        const decoder = new TextDecoder();
        if (!stream) {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += decoder.decode(chunk, { stream: true })));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, stream, text }));
          res.on('close', () => resolve({ status: res.statusCode ?? 0, stream, text }));
          return;
        }
        const parser = createParser({ onEvent: (frame) => spec.onFrame(frame) });
        res.on('data', (chunk: Buffer) => parser.feed(decoder.decode(chunk, { stream: true })));
        if (this.#paused) res.pause();
        resolve({ status: res.statusCode ?? 0, stream, text: '' });
      });
      req.end(spec.body);
    });
    // A rejected head is reported through `head`; nobody need wait on it twice.
    this.head.catch(() => undefined);
  }

  /** Stops reading the socket (also before the response has arrived). */
  pause(): void {
    this.#paused = true;
    this.#res?.pause();
  }

  resume(): void {
    this.#paused = false;
    this.#res?.resume();
  }

  /** Destroys the socket: to the relay, the reader vanished mid-stream. */
  cut(): void {
    this.#destroy();
  }
}
