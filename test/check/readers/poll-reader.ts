import { Prng } from '../prng.js';
import { modernRequest } from './push-readers.js';
import { Reader, type ReaderContext } from './reader.js';
import type { ReaderKind } from '../schedule.js';

const POLL_EVERY_MS = 60;

/**
 * `events/poll` (2026-07-28, stateless) from the reader's position: pages of up to
 * `maxEvents`, sometimes as a short long-poll. A truncated answer is a gap from the
 * position to its cursor. Pausing stops polling; a cut aborts the poll in flight.
 */
export class PollReader extends Reader {
  #abort: AbortController | undefined;
  readonly #rng: Prng;

  constructor(slot: number, kind: ReaderKind, filter: readonly string[] | null, start: string, context: ReaderContext) {
    super(slot, kind, filter, start, context);
    this.#rng = new Prng(context.seed * 31 + slot);
  }

  cut(): void {
    this.#abort?.abort();
  }

  protected onPause(): void {}

  protected onResume(): void {}

  protected async connectOnce(): Promise<void> {
    if (this.closed) return;
    this.opened();
    const abort = new AbortController();
    this.#abort = abort;
    const timer = setTimeout(() => abort.abort(), 15_000);
    const params = {
      name: 'cx_events',
      cursor: this.position,
      maxEvents: this.#rng.pick([20, 100, 1000]),
      timeoutMs: this.#rng.pick([0, 0, 200]),
      ...(this.filter ? { arguments: { types: [...this.filter] } } : {}),
    };
    let answer;
    try {
      answer = await modernRequest(this.context.url, 'events/poll', params, abort.signal);
    } finally {
      clearTimeout(timer);
      this.#abort = undefined;
    }
    const result = answer.result as { events?: { cursor: string; data: { type: string } }[]; cursor?: string; truncated?: boolean; hasMore?: boolean } | undefined;
    if (!result || !Array.isArray(result.events) || typeof result.cursor !== 'string') {
      this.note(`events/poll answered ${JSON.stringify(answer).slice(0, 200)}`);
      throw new Error('refused');
    }
    if (result.truncated === true) {
      // The contract: no events, the cursor is where the relay resumed. Events with a
      // truncated answer leave the gap's end unsaid.
      if (result.events.length === 0) this.gap(undefined, result.cursor, 'poll');
      else this.gap(undefined, undefined, 'poll with events');
    }
    for (const event of result.events) this.event(event.cursor, event.data.type);
    if (!(result.truncated === true && result.events.length === 0)) this.positionAt(result.cursor, 'poll');
    if (result.hasMore !== true) await this.sleep(POLL_EVERY_MS);
  }
}
