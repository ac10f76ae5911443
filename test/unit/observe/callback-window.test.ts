import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CallbackStats } from '../../../src/observe/callback-stats.js';
import { binUpperMs, LATENCY_BINS, LatencyBins } from '../../../src/observe/latency-bins.js';
import { boundedLatency } from '../../../src/observe/status-report.js';

const T = Date.UTC(2026, 10, 26, 12);
/** Beyond the second-highest bin: only the top bin, which has no upper bound, holds it. */
const BEYOND_BINS_MS = binUpperMs(LATENCY_BINS - 2) * 2;

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

describe('boundedLatency', () => {
  it('reads p50 and p99 from the bins', () => {
    const bins = new LatencyBins();
    for (let i = 0; i < 100; i++) bins.record(10);
    expect(boundedLatency(bins)).toEqual({ p50: bins.quantile(0.5), p99: bins.quantile(0.99), count: 100, overflow: false });
  });

  it('says overflow, not the top bin’s bound, when the p99 falls in the top bin', () => {
    const bins = new LatencyBins();
    for (let i = 0; i < 98; i++) bins.record(10);
    bins.record(BEYOND_BINS_MS);
    bins.record(BEYOND_BINS_MS);
    expect(boundedLatency(bins)).toEqual({ p50: bins.quantile(0.5), p99: null, count: 100, overflow: true });
  });

  it('gives no percentile at all when even the median is beyond the bins', () => {
    const bins = new LatencyBins();
    bins.record(BEYOND_BINS_MS);
    expect(boundedLatency(bins)).toEqual({ p50: null, p99: null, count: 1, overflow: true });
  });

  it('has no percentiles and no overflow without samples', () => {
    expect(boundedLatency(new LatencyBins())).toEqual({ p50: null, p99: null, count: 0, overflow: false });
  });
});
