import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CallbackStats } from '../../../src/observe/callback-stats.js';
import { LARGEST_BIN_MS, LatencyBins } from '../../../src/observe/latency-bins.js';
import { percentiles } from '../../../src/observe/status-report.js';

const T = Date.UTC(2026, 10, 26, 12);
const DAY_MS = 86_400_000;
/** Beyond the largest bin: a latency the bins cannot bound. */
const BEYOND_BINS_MS = LARGEST_BIN_MS * 2;

function stats(clock: { t: number }): CallbackStats {
  return new CallbackStats(new Registry(), { delivered: () => undefined }, () => clock.t);
}

describe("CallbackStats' window", () => {
  it('sums attempts, failures by category, deliveries, abandonments and ends over the window', () => {
    const clock = { t: T };
    const callbacks = stats(clock);
    callbacks.attempt({ outcome: 'failed', reason: 'http_5xx' });
    callbacks.attempt({ outcome: 'failed', reason: 'timeout' });
    clock.t += 1000;
    callbacks.attempt({ outcome: 'delivered' });
    callbacks.delivered('01KAAAAAAAAAAAAAAAAAAAAAAA', 40);
    callbacks.attempt({ outcome: 'too_large' });
    callbacks.abandoned('http_413');
    callbacks.attempt({ outcome: 'gone' });
    callbacks.ended('gone');
    const window = callbacks.window(900_000, clock.t);
    expect(window).toMatchObject({ attempts: 5, delivered: 1, abandoned: 1, failures: { http_5xx: 1, timeout: 1, http_413: 1, http_410: 1 }, ended: { gone: 1 } });
    expect(window.latency.count).toBe(1);
  });

  it('leaves out what happened before the window', () => {
    const clock = { t: T };
    const callbacks = stats(clock);
    callbacks.attempt({ outcome: 'failed', reason: 'connection_refused' });
    callbacks.ended('suspended');
    expect(callbacks.window(900_000, T + 899_000)).toMatchObject({ attempts: 1, ended: { suspended: 1 } });
    expect(callbacks.window(900_000, T + 911_000)).toMatchObject({ attempts: 0, failures: {}, ended: {} });
    expect(callbacks.window(86_400_000, T + 911_000).attempts).toBe(1);
  });
});

describe('percentiles', () => {
  const bounded = (bins: LatencyBins) => percentiles(bins, ['p50', 'p99']);

  it('reads the percentiles asked for from the bins', () => {
    const bins = new LatencyBins();
    for (let i = 0; i < 100; i++) bins.record(10);
    expect(bounded(bins)).toEqual({ p50: bins.quantile(0.5), p99: bins.quantile(0.99), count: 100, overflow: false });
    expect(percentiles(bins, ['p95'])).toEqual({ p95: 11, count: 100, overflow: false });
  });

  it('says overflow, not the top bin’s bound, when the p99 lies beyond the largest bin', () => {
    const bins = new LatencyBins();
    for (let i = 0; i < 98; i++) bins.record(10);
    bins.record(BEYOND_BINS_MS);
    bins.record(BEYOND_BINS_MS);
    expect(bounded(bins)).toEqual({ p50: 11, p99: null, count: 100, overflow: true });
    expect(percentiles(bins, ['p50', 'p95'])).toEqual({ p50: 11, p95: 11, count: 100, overflow: false });
  });

  it('gives no percentile at all when even the median is beyond the bins', () => {
    const bins = new LatencyBins();
    bins.record(BEYOND_BINS_MS);
    expect(percentiles(bins, ['p50', 'p95', 'p99'])).toEqual({ p50: null, p95: null, p99: null, count: 1, overflow: true });
  });

  it('reports days as days: a latency of 3 days is a value, within a bin of it', () => {
    const bins = new LatencyBins();
    bins.record(3 * DAY_MS);
    const { p50, overflow } = bounded(bins);
    expect(overflow).toBe(false);
    expect(p50).toBeGreaterThanOrEqual(3 * DAY_MS);
    expect(p50).toBeLessThanOrEqual(3 * DAY_MS * 1.19);
  });

  it('has no percentiles and no overflow without samples', () => {
    expect(bounded(new LatencyBins())).toEqual({ p50: null, p99: null, count: 0, overflow: false });
  });
});
