import { cpuSeconds } from './proc-stats.js';
import type { LoadGenerators } from './scale-loaders.js';
import { formatCount } from './table.js';

/**
 * The replay part of `scale`: one subscriber that comes back after `events` missed events
 * reads them all over the wire. Time runs from its request to the last event frame; the
 * servers take turns, pass by pass.
 */

export interface ReplayTarget {
  name: string;
  kind: 'bare' | 'relay';
  url: string;
  pid: number;
  /** The subscriber's cursor: every event after it is a missed one. */
  cursor: string;
  /** How many events follow the cursor. */
  missed: number;
}

export interface ReplayRow {
  name: string;
  kind: 'bare' | 'relay';
  missed: number;
  events: number;
  bytes: number;
  seconds: number;
  /** The server's CPU time over the timed passes; undefined without /proc. */
  serverCpuSeconds: number | undefined;
}

/** A short pass first, so the first timed pass does not pay for compiling the serving path. */
const WARMUP_EVENTS = 5_000;

export async function measureReplay(targets: readonly ReplayTarget[], loaders: LoadGenerators, passes: number): Promise<ReplayRow[]> {
  for (const target of targets) await loaders.replay(target.url, target.cursor, Math.min(target.missed, WARMUP_EVENTS));
  const rows: ReplayRow[] = targets.map((t) => ({ name: t.name, kind: t.kind, missed: t.missed, events: 0, bytes: 0, seconds: 0, serverCpuSeconds: 0 }));
  for (let pass = 0; pass < passes; pass++) {
    for (let k = 0; k < targets.length; k++) {
      const i = (k + pass) % targets.length;
      const { url, pid, cursor, missed } = targets[i]!;
      const cpuBefore = cpuSeconds(pid);
      const result = await loaders.replay(url, cursor, missed);
      const cpuAfter = cpuSeconds(pid);
      const row = rows[i]!;
      row.serverCpuSeconds = row.serverCpuSeconds !== undefined && cpuBefore !== undefined && cpuAfter !== undefined ? row.serverCpuSeconds + cpuAfter - cpuBefore : undefined;
      row.events += missed;
      row.bytes += result.bytes;
      row.seconds += result.seconds;
      console.error(`replay pass ${pass + 1}/${passes}: ${row.name} ${formatCount(missed / result.seconds)} events/s`);
    }
  }
  return rows;
}
