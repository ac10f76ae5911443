import { describe, expect, it } from 'vitest';
import { binOf, binUpperMs, LatencyBins } from '../../../src/observe/latency-bins.js';

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

  it('puts sub-millisecond and negative latencies in the first bin and caps the last', () => {
    expect(binOf(0)).toBe(0);
    expect(binOf(-5)).toBe(0);
    expect(binOf(Number.NaN)).toBe(0);
    expect(binOf(1e15)).toBe(127);
    expect(binUpperMs(binOf(1000))).toBeGreaterThanOrEqual(1000);
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
