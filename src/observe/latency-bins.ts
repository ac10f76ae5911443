/**
 * A compact log-scale latency histogram: bin `i` holds samples up to 2^(i/4) ms, so a
 * quantile read from it is at most ~19 % above the true value, from 1 ms to ~40 days in 128
 * counters. Small enough to keep one per time bucket, and mergeable, which cumulative
 * Prometheus histograms are not over an arbitrary window.
 */
export const LATENCY_BINS = 128;
const BINS_PER_DOUBLING = 4;

export function binOf(ms: number): number {
  if (!(ms > 1)) return 0;
  return Math.min(LATENCY_BINS - 1, Math.ceil(Math.log2(ms) * BINS_PER_DOUBLING));
}

/** The largest latency a bin holds, in ms. */
export function binUpperMs(bin: number): number {
  return 2 ** (bin / BINS_PER_DOUBLING);
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

  /** The upper bound (ms, rounded) of the bin holding the `q`-quantile; null without samples. */
  quantile(q: number): number | null {
    if (this.count === 0) return null;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < LATENCY_BINS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.round(binUpperMs(i));
    }
    return Math.round(binUpperMs(LATENCY_BINS - 1));
  }
}
