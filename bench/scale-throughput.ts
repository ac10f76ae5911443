import { join } from 'node:path';
import { BareSqlite } from './bare-sqlite.js';
import type { DeliveryPool } from './ingest-deliveries.js';
import { BARE_HTTP, measureIngest, type Row as IngestRow, relaySpec } from './ingest-runner.js';
import { type Budget, interleave, type Measurement, timeProducers, timeSync } from './measure.js';
import { openStore } from './scale-stores.js';
import { stripePaymentFailed } from './stripe-event.js';

/**
 * The ingest and append rows of `scale`: the `ingest` and `log` benchmarks' measurements
 * (same load generator, same bare baselines), run for the durable stores side by side, so
 * Redis reads beside SQLite.
 */

export interface StoreUnderTest {
  /** `sqlite full`, `redis`. */
  name: string;
  /** A `RELAY_STORE` value. */
  store: string;
}

export interface AppendRow {
  name: string;
  kind: 'bare' | 'log';
  result: Measurement;
}

export const PRODUCERS = 16;
const APPEND_WARMUP: Budget = { maxOps: 300, maxMs: 300 };

/** Webhooks/s per store over HTTP, beside bare `node:http`. */
export function measureStoreIngest(stores: readonly StoreUnderTest[], pool: DeliveryPool, seconds: number, cpu: string | undefined): Promise<IngestRow[]> {
  const specs = [BARE_HTTP, ...stores.map(({ name, store }) => relaySpec(name, store, store.startsWith('sqlite:') ? { sqlitePath: store.slice('sqlite:'.length) } : {}))];
  return measureIngest(specs, { seconds, warmup: 1, rounds: 2, connections: 50 }, pool, cpu);
}

/**
 * `append` from 16 concurrent producers per store, in this process, beside the bare
 * better-sqlite3 loop (one row per transaction, `synchronous = full`), interleaved.
 */
export async function measureStoreAppends(stores: readonly StoreUnderTest[], dir: string, seconds: number, rounds: number): Promise<AppendRow[]> {
  const bare = new BareSqlite(join(dir, 'bare-append.db'), 'full');
  const backends = stores.map((s) => openStore(s.store));
  try {
    const slices = [
      (b: Budget) => timeSync(() => bare.insert([stripePaymentFailed()]), b),
      ...backends.map(({ log }) => (b: Budget) => timeProducers(PRODUCERS, () => log.append(stripePaymentFailed()), b)),
    ];
    for (const slice of slices) await slice(APPEND_WARMUP);
    console.error(`append: ${stores.map((s) => s.name).join(', ')} and the bare loop, ${rounds} interleaved rounds`);
    const [bareResult, ...results] = await interleave(slices, rounds, { maxOps: 100_000, maxMs: seconds * 1000 });
    return [
      { name: 'bare better-sqlite3, 1 row per tx, full', kind: 'bare', result: bareResult! },
      ...stores.map((s, i): AppendRow => ({ name: s.name, kind: 'log', result: results[i]! })),
    ];
  } finally {
    bare.close();
    for (const backend of backends) await backend.close();
  }
}
