import { createParser, type EventSourceMessage } from 'eventsource-parser';

/** How long a test waits for something to arrive before it fails. */
export const WAIT_MS = 15_000;

/** Things that arrive over time; tests wait for a condition on them, never for a duration. */
export class Inbox<T> {
  readonly items: T[] = [];
  #ended = false;
  readonly #wake = new Set<() => void>();

  push(item: T): void {
    this.items.push(item);
    for (const wake of [...this.#wake]) wake();
  }

  /** No more items will come: pending waits whose condition is unmet fail at once. */
  end(): void {
    this.#ended = true;
    for (const wake of [...this.#wake]) wake();
  }

  until(done: (items: T[]) => boolean, what: string, ms = WAIT_MS): Promise<T[]> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (done(this.items)) finish(() => resolve(this.items));
        else if (this.#ended) finish(() => reject(new Error(`ended before ${what} (${this.items.length} received)`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`no ${what} within ${ms} ms (${this.items.length} received)`))), ms);
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        this.#wake.delete(check);
        settle();
      };
      this.#wake.add(check);
      check();
    });
  }
}

export type RpcMessage = {
  jsonrpc: '2.0';
  id?: string | number | null;
  method?: string;
  params?: Record<string, any>;
  result?: Record<string, any>;
  error?: { code: number; message: string; data?: any };
};

export const rpcOf = (frame: EventSourceMessage): RpcMessage => JSON.parse(frame.data) as RpcMessage;
export const isEventFrame = (frame: EventSourceMessage) => frame.data !== '' && rpcOf(frame).method === 'notifications/events/event';

/** An SSE response parsed with eventsource-parser as its bytes arrive. */
export class SseReader {
  readonly frames = new Inbox<EventSourceMessage>();
  readonly retries: number[] = [];
  /** Resolves when the response ends, cleanly or not. */
  readonly done: Promise<void>;
  /** The JSON-RPC id of the request this stream answers, when the helper sent it. */
  requestId: string | number | undefined;
  #taken = 0;

  constructor(
    readonly response: Response,
    private readonly abort?: AbortController,
  ) {
    const parser = createParser({ onEvent: (frame) => this.frames.push(frame), onRetry: (ms) => this.retries.push(ms) });
    const body = response.body;
    if (!body) throw new Error('the response has no body');
    this.done = (async () => {
      const decoder = new TextDecoder();
      try {
        for await (const chunk of body) parser.feed(decoder.decode(chunk, { stream: true }));
      } catch {
        // The server (or the test) cut the connection: the stream has ended either way.
      } finally {
        this.frames.end();
      }
    })();
  }

  /** The next frame (after those already taken) that matches, skipping the rest. */
  async next(match: (frame: EventSourceMessage) => boolean, what: string, ms?: number): Promise<EventSourceMessage> {
    const from = this.#taken;
    const found = (items: EventSourceMessage[]) => items.findIndex((f, i) => i >= from && match(f));
    const items = await this.frames.until((all) => found(all) >= 0, what, ms);
    const index = found(items);
    this.#taken = index + 1;
    return items[index]!;
  }

  /** The next JSON-RPC message with this method (or, for `'response'`, the final response). */
  async nextRpc(method: string | 'response', ms?: number): Promise<{ frame: EventSourceMessage; message: RpcMessage }> {
    const frame = await this.next(
      (f) => f.data !== '' && (method === 'response' ? rpcOf(f).id !== undefined && rpcOf(f).method === undefined : rpcOf(f).method === method),
      method,
      ms,
    );
    return { frame, message: rpcOf(frame) };
  }

  /** The event frames received so far. */
  eventFrames(): EventSourceMessage[] {
    return this.frames.items.filter(isEventFrame);
  }

  untilEvents(count: number, ms?: number): Promise<EventSourceMessage[]> {
    return this.frames.until((items) => items.filter(isEventFrame).length >= count, `${count} event frames`, ms).then(() => this.eventFrames());
  }

  close(): void {
    this.abort?.abort();
  }
}

/** Reads a JSON-RPC response given as JSON or as an SSE stream. */
export async function readRpc(res: Response): Promise<RpcMessage> {
  if (res.headers.get('content-type')?.includes('text/event-stream')) {
    const reader = new SseReader(res);
    const { message } = await reader.nextRpc('response');
    await res.body?.cancel().catch(() => undefined);
    return message;
  }
  return (await res.json()) as RpcMessage;
}
