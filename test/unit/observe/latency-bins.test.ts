import { describe, expect, it } from 'vitest';
import { binOf, binUpperMs, LARGEST_BIN_MS, LATENCY_BINS, LatencyBins } from '../../../src/observe/latency-bins.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

describe('LatencyBins', () => {
  it('answers a quantile within one bin (at most 19 % high) of the true value', () => {
    const bins = new LatencyBins();
    for (let ms = 1; ms <= 1000; ms++) bins.record(ms);
    for (const [q, exact] of [[0.5, 500], [0.95, 950], [0.99, 990]] as const) {
      const answer = bins.quantile(q)!;
      expect(answer).toBeGreaterThanOrEqual(exact);
      expect(answer).toBeLessThanOrEqual(exact * 1.19 + 1);
    }
    expect(bins.count).toBe(1000);
  });

  it('has no quantile without samples', () => {
    expect(new LatencyBins().quantile(0.5)).toBeNull();
  });

  it('puts sub-millisecond and negative latencies in the first bin, and everything beyond the largest bin in the last', () => {
    expect(binOf(0)).toBe(0);
    expect(binOf(-5)).toBe(0);
    expect(binOf(Number.NaN)).toBe(0);
    expect(binUpperMs(binOf(1000))).toBeGreaterThanOrEqual(1000);
    expect(binOf(LARGEST_BIN_MS)).toBe(LATENCY_BINS - 2);
    expect(binOf(LARGEST_BIN_MS + 1)).toBe(LATENCY_BINS - 1);
    expect(binOf(1e15)).toBe(LATENCY_BINS - 1);
  });

  it('bounds latencies of hours and days: every provider retry horizon lands in a bin', () => {
    expect(LARGEST_BIN_MS).toBeGreaterThan(30 * DAY_MS);
    for (const ms of [HOUR_MS, 6 * HOUR_MS, DAY_MS, 2 * DAY_MS, 3 * DAY_MS, 30 * DAY_MS]) {
      const bins = new LatencyBins();
      bins.record(ms);
      expect(bins.overflows(0.5)).toBe(false);
      expect(bins.quantile(0.5)).toBeGreaterThanOrEqual(ms);
      expect(bins.quantile(0.5)).toBeLessThanOrEqual(ms * 1.19 + 1);
    }
  });

  it('answers null, never the last bin’s cap, for a quantile beyond the largest bin, and says it overflows', () => {
    const bins = new LatencyBins();
    bins.record(16);
    bins.record(LARGEST_BIN_MS * 4);
    expect(bins.quantile(0.5)).toBe(16);
    expect(bins.overflows(0.5)).toBe(false);
    expect(bins.quantile(0.99)).toBeNull();
    expect(bins.overflows(0.99)).toBe(true);
    expect(new LatencyBins().overflows(0.99)).toBe(false);
  });

  it('merges bins so a window can be summed from its buckets', () => {
    const a = new LatencyBins();
    const b = new LatencyBins();
    a.record(10);
    b.record(10_000);
    b.record(10_000);
    a.add(b);
    expect(a.count).toBe(3);
    expect(a.quantile(0.34)! >= 10_000).toBe(true);
    expect(a.quantile(0.33)!).toBeLessThan(12);
  });
});
