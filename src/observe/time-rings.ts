/**
 * The time-bucketed rings behind every windowed history of the relay (`WindowedStats`,
 * `CallbackStats`): memory is fixed by the rings, not by traffic, and a window up to 7 days is
 * read from the finest ring that covers it.
 */

/** The shortest window a history answers for. */
export const MIN_WINDOW_MS = 10_000;
/** The longest window a history keeps: the coarsest ring's span. */
export const MAX_WINDOW_MS = 3_600_000 * 168;

/** What a {@link Ring} holds in each slot: a bucket that knows its index and can be emptied for another. */
export interface RingBucket {
  index: number;
  reset(index: number): void;
}

/** Buckets of one width in a ring; a slot whose index is stale reads as empty. */
export class Ring<B extends RingBucket> {
  readonly #slots: B[] = [];

  constructor(
    readonly bucketMs: number,
    readonly length: number,
    private readonly create: () => B,
  ) {}

  get spanMs(): number {
    return this.bucketMs * this.length;
  }

  write(t: number): B {
    const index = Math.floor(t / this.bucketMs);
    const slot = index % this.length;
    const bucket = (this.#slots[slot] ??= this.create());
    if (bucket.index !== index) bucket.reset(index);
    return bucket;
  }

  read(index: number): B | undefined {
    const bucket = this.#slots[index % this.length];
    return bucket?.index === index ? bucket : undefined;
  }
}

/** The rings every windowed history keeps: 10 s buckets for an hour, 1 min for a day, 1 h for a week. */
export function historyRings<B extends RingBucket>(create: () => B): Ring<B>[] {
  return [new Ring(10_000, 360, create), new Ring(60_000, 1440, create), new Ring(3_600_000, 168, create)];
}

/**
 * The buckets covering the last `windowMs` (clamped to what is kept), oldest first, from the
 * finest ring that covers it; the current one is partial.
 */
export function windowOf<B extends RingBucket>(rings: readonly Ring<B>[], windowMs: number, now: number): { ring: Ring<B>; first: number; buckets: (B | undefined)[] } {
  const span = Math.min(Math.max(windowMs, MIN_WINDOW_MS), MAX_WINDOW_MS);
  const ring = rings.find((r) => r.spanMs >= span) ?? rings[rings.length - 1]!;
  const last = Math.floor(now / ring.bucketMs);
  const first = last - Math.ceil(span / ring.bucketMs) + 1;
  const buckets: (B | undefined)[] = [];
  for (let index = first; index <= last; index++) buckets.push(ring.read(index));
  return { ring, first, buckets };
}
