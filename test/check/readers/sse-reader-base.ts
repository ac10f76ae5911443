import type { EventSourceMessage } from 'eventsource-parser';
import { SseConnection, type SseRequest } from '../sse-connection.js';
import { Reader } from './reader.js';

/**
 * A reader over one SSE connection at a time: pausing stops reading the socket, a cut
 * destroys it. Subclasses say what to request and what each frame means.
 */
export abstract class SseReaderBase extends Reader {
  #conn: SseConnection | undefined;

  cut(): void {
    this.#conn?.cut();
  }

  protected onPause(): void {
    this.#conn?.pause();
  }

  protected onResume(): void {
    this.#conn?.resume();
  }

  protected abstract onFrame(frame: EventSourceMessage): void;

  /**
   * Opens one connection and waits for it to end. Resolves with the status and text of an
   * answer that was not an event stream (the caller decides whether to retry).
   */
  protected async stream(request: Omit<SseRequest, 'base' | 'onFrame'>): Promise<{ status: number; text: string } | undefined> {
    // Closed while a step before the stream was under way (a legacy initialize): a stream
    // opened now would never be cut.
    if (this.closed) return undefined;
    this.opened();
    const conn = new SseConnection({ ...request, base: this.context.url, onFrame: (frame) => this.onFrame(frame) });
    this.#conn = conn;
    if (this.paused) conn.pause();
    try {
      const head = await conn.head;
      if (!head.stream) return { status: head.status, text: head.text };
      await conn.done;
      return undefined;
    } finally {
      this.#conn = undefined;
    }
  }
}
