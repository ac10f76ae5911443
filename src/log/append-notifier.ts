import type { Event } from '../events/event.js';

/**
 * What a commit tells in-process followers. `prev` is the head before the commit, so a
 * follower whose cursor equals `prev` can take `events` as they are; any other follower
 * (behind, or a commit it cannot see whole) reads from the log instead. `events` is empty
 * for a commit made elsewhere (another process): a hint to read, with nothing to take.
 */
export interface AppendBatch {
  prev: string | null;
  events: readonly Event[];
}

export type AppendListener = (batch: AppendBatch) => void;

/** Fans commits out to followers, synchronously and in commit order. */
export class AppendNotifier {
  readonly #listeners = new Set<AppendListener>();

  get size(): number {
    return this.#listeners.size;
  }

  subscribe(listener: AppendListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  publish(batch: AppendBatch): void {
    for (const listener of this.#listeners) listener(batch);
  }
}
