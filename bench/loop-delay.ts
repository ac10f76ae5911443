import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

/**
 * Loaded into the relay under measurement by the `latency` benchmark (compiled to JavaScript
 * first, then `node --import <file>`): `perf_hooks.monitorEventLoopDelay` at 1 ms resolution, read once per
 * wall-clock second (then reset) and over the measured window, and written to
 * `BENCH_LOOP_DELAY_FILE` as JSON, so the benchmark can line the relay's stalls up with its
 * per-second latency. The first SIGUSR2 starts the measured window (the whole-run histogram
 * restarts), the second writes the report. Delays are in ms; `second` is the Unix second the
 * row ends in.
 */

export interface LoopDelaySecond {
  second: number;
  p99: number;
  max: number;
}

export interface LoopDelayReport {
  seconds: LoopDelaySecond[];
  whole: { p50: number; p99: number; p999: number; max: number };
}

const MS = 1e6;
const file = process.env.BENCH_LOOP_DELAY_FILE;
const perSecond = monitorEventLoopDelay({ resolution: 1 });
const whole = monitorEventLoopDelay({ resolution: 1 });
const seconds: LoopDelaySecond[] = [];

function sample(): void {
  seconds.push({ second: Math.round(Date.now() / 1000), p99: perSecond.percentile(99) / MS, max: perSecond.max / MS });
  perSecond.reset();
}

if (file !== undefined) {
  perSecond.enable();
  whole.enable();
  // Aligned to the second, so rows line up with the benchmark's per-second latency.
  setTimeout(() => setInterval(sample, 1000).unref(), 1000 - (Date.now() % 1000)).unref();
  let started = false;
  process.on('SIGUSR2', () => {
    if (!started) {
      started = true;
      whole.reset();
      return;
    }
    const report: LoopDelayReport = {
      seconds,
      whole: { p50: whole.percentile(50) / MS, p99: whole.percentile(99) / MS, p999: whole.percentile(99.9) / MS, max: whole.max / MS },
    };
    writeFileSync(file, JSON.stringify(report));
  });
}
