import type { PushStream, PushStreamEnd } from '../delivery/push-stream.js';
import type { Budget } from '../http/budget.js';
import type { StreamObserver } from '../observe/stream-stats.js';

/** Open push streams by principal: their budget (per principal and in total), and who to finish at shutdown. */
export class StreamRegistry {
  readonly #byPrincipal = new Map<string, Set<PushStream>>();
  readonly #releases = new Map<PushStream, () => void>();

  constructor(
    readonly budget: Budget,
    private readonly observer?: StreamObserver,
  ) {}

  /** Registers a stream opened under a slot taken from {@link budget}; `releaseSlot` returns it when the stream ends. */
  add(principal: string, stream: PushStream, releaseSlot: () => void): void {
    this.#releases.set(stream, releaseSlot);
    const streams = this.#byPrincipal.get(principal) ?? new Set();
    streams.add(stream);
    this.#byPrincipal.set(principal, streams);
    this.observer?.opened(stream.era, principal);
  }

  release(principal: string, stream: PushStream, end: PushStreamEnd): void {
    this.#releases.get(stream)?.();
    this.#releases.delete(stream);
    const streams = this.#byPrincipal.get(principal);
    if (streams?.delete(stream)) {
      this.observer?.closed(stream.era, principal, { durationMs: Date.now() - stream.openedAt, framesWritten: stream.framesWritten, reason: end.reason, error: end.error });
    }
    if (streams?.size === 0) this.#byPrincipal.delete(principal);
  }

  get size(): number {
    let total = 0;
    for (const streams of this.#byPrincipal.values()) total += streams.size;
    return total;
  }

  /** Ends every open stream with its final result (shutdown). */
  finishAll(): void {
    for (const streams of [...this.#byPrincipal.values()]) for (const stream of [...streams]) stream.finish('shutdown');
  }
}
