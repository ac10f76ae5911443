import { setTimeout as sleep } from 'node:timers/promises';
import { rssBytes } from './proc-stats.js';
import type { LoadGenerators } from './scale-loaders.js';
import type { ServerProcess } from './server-process.js';
import { formatCount } from './table.js';

/**
 * The memory part of `scale`: a server's resident memory with N idle subscribers open,
 * less its memory before the first one, divided by N. The server runs with
 * `bench/gc-on-signal.ts`, so each reading follows a full GC and what is counted is what
 * the subscribers hold, not the garbage their setup left.
 */

export interface MemoryRow {
  name: string;
  kind: 'bare' | 'relay';
  subscribers: number;
  /** Settled RSS before any subscriber, and with `subscribers` open. */
  before: number;
  after: number;
}

const SETTLE_STEP_MS = 300;
const SETTLE_TRIES = 20;

/** RSS after a GC, once two readings in a row agree within 1 %. */
async function settledRss(pid: number): Promise<number> {
  let previous = Number.NaN;
  for (let i = 0; i < SETTLE_TRIES; i++) {
    process.kill(pid, 'SIGUSR2');
    await sleep(SETTLE_STEP_MS);
    const rss = rssBytes(pid);
    if (rss === undefined) throw new Error('resident memory is read from /proc, which this system lacks');
    if (Math.abs(rss - previous) <= rss * 0.01) return rss;
    previous = rss;
  }
  return previous;
}

/** Opens subscribers up to each of `counts` (ascending) in turn, reading RSS at each. */
export async function measureIdleMemory(
  name: string,
  kind: 'bare' | 'relay',
  server: ServerProcess,
  loaders: LoadGenerators,
  counts: readonly number[],
): Promise<MemoryRow[]> {
  const before = await settledRss(server.pid);
  const rows: MemoryRow[] = [];
  let open = 0;
  try {
    for (const count of counts) {
      console.error(`memory: ${name}: opening ${formatCount(count - open)} idle subscribers (${formatCount(count)} in all)`);
      await loaders.open(server.url, count - open, open + 1);
      open = count;
      rows.push({ name, kind, subscribers: count, before, after: await settledRss(server.pid) });
    }
  } finally {
    await loaders.close(server.url);
  }
  return rows;
}
