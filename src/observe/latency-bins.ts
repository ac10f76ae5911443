/**
 * A compact log-scale latency histogram: bin `i` holds samples up to 2^(i/4) ms, so a
 * quantile read from it is at most ~19 % above the true value, from 1 ms to ~35 days
 * ({@link LARGEST_BIN_MS}: a provider retrying for days still lands in a bin) in 127
 * counters, and one more for what lies beyond them, which has no bound to report. Small
 * enough to keep one per time bucket, and mergeable, which cumulative Prometheus
 * histograms are not over an arbitrary window.
 */
export const LATENCY_BINS = 128;
const BINS_PER_DOUBLING = 4;
/** The bin of every sample beyond the largest bounded one. */
const OVERFLOW_BIN = LATENCY_BINS - 1;

/** The largest latency a bin holds, in ms. */
export function binUpperMs(bin: number): number {
  return 2 ** (bin / BINS_PER_DOUBLING);
}

/** The largest latency the bins can bound, in ms (2^31.5 ms, ~35.2 days); longer ones overflow. */
export const LARGEST_BIN_MS = binUpperMs(OVERFLOW_BIN - 1);

export function binOf(ms: number): number {
  if (!(ms > 1)) return 0;
  if (ms > LARGEST_BIN_MS) return OVERFLOW_BIN;
  return Math.min(OVERFLOW_BIN - 1, Math.ceil(Math.log2(ms) * BINS_PER_DOUBLING));
}

export class LatencyBins {
  readonly counts = new Uint32Array(LATENCY_BINS);
  count = 0;

  record(ms: number): void {
    this.counts[binOf(ms)]!++;
    this.count++;
  }

  add(other: LatencyBins): void {
    for (let i = 0; i < LATENCY_BINS; i++) this.counts[i]! += other.counts[i]!;
    this.count += other.count;
  }

  /**
   * The upper bound (ms, rounded) of the bin holding the `q`-quantile; null without samples,
   * and null when it lies beyond the largest bin ({@link overflows}): never a made-up bound.
   */
  quantile(q: number): number | null {
    const bin = this.#binAt(q);
    return bin === undefined || bin === OVERFLOW_BIN ? null : Math.round(binUpperMs(bin));
  }

  /** Whether the `q`-quantile lies beyond the largest bin: a latency the bins cannot bound. */
  overflows(q: number): boolean {
    return this.#binAt(q) === OVERFLOW_BIN;
  }

  #binAt(q: number): number | undefined {
    if (this.count === 0) return undefined;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < OVERFLOW_BIN; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return i;
    }
    return OVERFLOW_BIN;
  }
}
