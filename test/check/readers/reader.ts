import { CHECK_KEY } from '../relay-under-test.js';
import type { ReaderKind } from '../schedule.js';

/**
 * What a reader saw, in the order it saw it. The walk (`walk.ts`) judges these against the
 * model after the schedule; readers only record and keep their own position, as a client
 * would.
 */
export type Observation =
  /** The reader (re)connected asking for events after `cursor`. */
  | { k: 'open'; cursor: string; at: number }
  | { k: 'event'; id: string; type: string; at: number }
  /** The relay said events after `after` were not delivered; delivery continues after `resumedAt`. */
  | { k: 'gap'; after: string | undefined; resumedAt: string | undefined; at: number; via: string }
  /** The relay named the reader's position (heartbeat, final result, poll cursor, …). */
  | { k: 'position'; cursor: string; at: number; via: string }
  /** Something a failure report should show (a refused request, a protocol oddity). */
  | { k: 'note'; text: string; at: number }
  /** A webhook delivery of an event the receiver already had (same `webhook-id`): dropped by its dedup. */
  | { k: 'redelivery'; id: string; at: number }
  /**
   * What was delivered may come again: the checker was about to kill (`kill`) or gracefully
   * restart (`restart`) the relay, or a webhook receiver dropped its connections (`cut`: an
   * answer it gave may never have reached the relay).
   */
  | { k: 'interrupted'; by: Interruption; at: number }
  /** Something no correct relay does, seen by the reader itself (a bad signature, a wrong `webhook-id`). */
  | { k: 'violation'; text: string; at: number };

export type Interruption = 'kill' | 'restart' | 'cut';

export interface ReaderContext {
  /** The relay's base URL; the relay may be down for a while (killed, restarting). */
  url: string;
  /** The schedule's seed: readers that draw (poll sizes) draw the same on every rerun. */
  seed: number;
}

export const authHeaders = { authorization: `Bearer ${CHECK_KEY}` } as const;

const BACKOFF_MIN_MS = 25;
const BACKOFF_MAX_MS = 400;

/**
 * A reader of one kind with one filter: connects, records what arrives, and reconnects from
 * its position whenever the connection ends, until closed. `pause()` stops it reading (and
 * reconnecting) until `resume()`.
 */
export abstract class Reader {
  readonly observations: Observation[] = [];
  /**
   * Whether the relay names this reader's position (heartbeats, poll cursors) as it moves
   * past events its filter skips. A webhook receiver is told only of matching events and
   * gaps: its walk asks for the matching events alone.
   */
  readonly namesPositions: boolean = true;
  position: string;
  connections = 0;
  #paused = false;
  #closed = false;
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;

  constructor(
    readonly slot: number,
    readonly kind: ReaderKind,
    /** Exact types, or null for every event. */
    readonly filter: readonly string[] | null,
    start: string,
    protected readonly context: ReaderContext,
  ) {
    this.position = start;
  }

  get label(): string {
    return `reader ${this.slot} (${this.kind}${this.filter ? ` types=${this.filter.join(',')}` : ''})`;
  }

  get paused(): boolean {
    return this.#paused;
  }

  get closed(): boolean {
    return this.#closed;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  pause(): void {
    this.#paused = true;
    this.onPause();
  }

  resume(): void {
    this.#paused = false;
    this.onResume();
    this.#wake?.();
  }

  /** Stops the reader; false when its loop did not end within `ms` (a checker bug, reported). */
  async close(ms = 15_000): Promise<boolean> {
    this.#closed = true;
    this.cut();
    this.#wake?.();
    let timer: NodeJS.Timeout | undefined;
    const stopped = await Promise.race([
      (this.#loop ?? Promise.resolve()).then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
    ]);
    clearTimeout(timer);
    if (!stopped) this.cut();
    return stopped;
  }

  /** Marks where the relay went down, so redeliveries after it are judged against how it went down. */
  relayStopping(how: 'kill' | 'restart'): void {
    this.record({ k: 'interrupted', by: how, at: Date.now() });
  }

  /** Ends the current connection from the reader's side; it reconnects unless paused. */
  abstract cut(): void;
  protected abstract onPause(): void;
  protected abstract onResume(): void;
  /** One connection (or one poll): resolves when it is over; throws when no answer came. */
  protected abstract connectOnce(): Promise<void>;

  protected record(o: Observation): void {
    this.observations.push(o);
    if (o.k === 'event') this.position = o.id;
    else if (o.k === 'position') this.position = o.cursor;
    else if (o.k === 'gap' && o.resumedAt !== undefined) this.position = o.resumedAt;
  }

  protected note(text: string): void {
    this.record({ k: 'note', text, at: Date.now() });
  }

  protected event(id: string, type: string): void {
    this.record({ k: 'event', id, type, at: Date.now() });
  }

  protected gap(after: string | undefined, resumedAt: string | undefined, via: string): void {
    this.record({ k: 'gap', after, resumedAt, at: Date.now(), via });
  }

  protected positionAt(cursor: string, via: string): void {
    this.record({ k: 'position', cursor, at: Date.now(), via });
  }

  protected opened(): void {
    this.connections++;
    this.record({ k: 'open', cursor: this.position, at: Date.now() });
  }

  /** Waits for `ms`, or less when resumed or closed. */
  protected sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }

  async #run(): Promise<void> {
    let backoff = BACKOFF_MIN_MS;
    while (!this.#closed) {
      if (this.#paused) {
        await this.sleep(1000);
        continue;
      }
      try {
        await this.connectOnce();
        backoff = BACKOFF_MIN_MS;
      } catch {
        // No answer, or a refusal (the relay is down or restarting): try again soon, a little
        // later each time. What was refused is in the observations as a note.
        if (!this.#closed) await this.sleep(backoff);
        backoff = Math.min(BACKOFF_MAX_MS, backoff * 2);
      }
    }
  }
}
