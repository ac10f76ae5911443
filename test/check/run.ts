import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { formatSummary, runCampaign } from './campaign.js';
import type { Schedule, StoreKind } from './schedule.js';

/**
 * `npm run check -- --seeds 200 --store sqlite|memory|redis [--seed N] [--ops K] [--only i,j] [--webhooks]`
 *
 * Runs the seeded fault checker: each seed draws a schedule of webhooks, retention trims,
 * paused and cut readers, relay kills and restarts, rotations and group claims, runs it
 * against a real relay and checks every reader and the group against the model. With
 * `--webhooks` each schedule also holds webhook subscribers whose receivers refuse
 * connections or answer 5xx for a while. Exits 1 when any seed fails (after printing a
 * shrunk schedule and how to rerun it).
 */
const usage =
  'usage: npm run check -- [--seeds N | --seed N] [--first S] [--store sqlite|memory|redis] [--ops K] [--webhooks] [--only i,j,…] [--no-shrink] [--shrink-runs N] [--trace] [--schedule file.json]';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      seeds: { type: 'string' },
      seed: { type: 'string' },
      first: { type: 'string' },
      store: { type: 'string', default: 'sqlite' },
      ops: { type: 'string', default: '30' },
      only: { type: 'string' },
      schedule: { type: 'string' },
      webhooks: { type: 'boolean', default: false },
      'no-shrink': { type: 'boolean', default: false },
      trace: { type: 'boolean', default: false },
      'shrink-runs': { type: 'string', default: '40' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const int = (name: string, text: string | undefined, min: number): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}\n${usage}`);
    return n;
  };
  const store = values.store as StoreKind;
  if (!['sqlite', 'memory', 'redis'].includes(store)) throw new Error(`--store must be sqlite, memory or redis\n${usage}`);
  const ops = int('ops', values.ops, 1);
  let seeds: number[];
  if (values.seed !== undefined) seeds = [int('seed', values.seed, 0)];
  else {
    const first = values.first === undefined ? 1 : int('first', values.first, 0);
    const count = values.seeds === undefined ? 20 : int('seeds', values.seeds, 1);
    seeds = Array.from({ length: count }, (_, i) => first + i);
  }
  const schedule = values.schedule === undefined ? undefined : (JSON.parse(readFileSync(values.schedule, 'utf8')) as Schedule);
  if (schedule) {
    seeds = [schedule.seed];
    schedule.store = store;
  }
  const only = values.only?.split(',').map((s) => int('only', s.trim(), 0));
  const summary = await runCampaign({
    store,
    schedule,
    schedulePath: values.schedule,
    seeds,
    ops,
    draw: { webhooks: values.webhooks },
    only,
    shrink: values['no-shrink'] ? undefined : { maxRuns: int('shrink-runs', values['shrink-runs'], 0), maxMs: 10 * 60_000 },
    print: (line) => console.log(line),
    trace: values.trace ? (line) => console.log(line) : undefined,
  });
  for (const line of formatSummary(summary)) console.log(line);
  return summary.failed.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(2);
  },
);
