import { runSchedule, type RunOptions, type RunResult } from './execute.js';
import { startCheckRedis, type CheckRedis } from './redis.js';
import { describeOp, type DrawOptions, drawSchedule, type OpKind, type Schedule, type StoreKind } from './schedule.js';
import { restrict, shrinkSchedule, type ShrinkBudget } from './shrink.js';

export interface CampaignOptions {
  store: StoreKind;
  /** A schedule written by hand (or saved from a failure) instead of drawn from the seeds. */
  schedule?: Schedule;
  /** Where `schedule` came from, for the rerun line. */
  schedulePath?: string;
  seeds: number[];
  ops: number;
  /** How each seed's schedule is drawn (`--webhooks`). */
  draw?: DrawOptions;
  /** Run only these operations of each seed's schedule (a shrunk reproduction). */
  only?: number[];
  /** No shrinking when undefined. */
  shrink?: ShrinkBudget;
  print: (line: string) => void;
  trace?: (line: string) => void;
}

export interface Summary {
  store: StoreKind;
  passed: number[];
  failed: number[];
  ran: Partial<Record<OpKind, number>>;
  committed: number;
  webhooks: number;
  delivered: number;
  gaps: number;
  deadLettered: number;
  unknownOutcomes: number;
  elapsedMs: number;
}

/** The command that runs `seed` again (with `only`, exactly the shrunk schedule). */
export function rerunCommand(store: StoreKind, seed: number, ops: number, only?: readonly number[], schedulePath?: string, draw: DrawOptions = {}): string {
  const what = schedulePath ? `--schedule ${schedulePath}` : `--seed ${seed} --ops ${ops}${draw.webhooks ? ' --webhooks' : ''}`;
  return `npm run check -- --store ${store} ${what}${only ? ` --only ${only.join(',')}` : ''}`;
}

/**
 * Runs seeds one after another (each on its own relay), prints one line per seed and, for a
 * failing one, its failures, a shrunk schedule and how to rerun it.
 */
export async function runCampaign(options: CampaignOptions): Promise<Summary> {
  const started = Date.now();
  const summary: Summary = { store: options.store, passed: [], failed: [], ran: {}, committed: 0, webhooks: 0, delivered: 0, gaps: 0, deadLettered: 0, unknownOutcomes: 0, elapsedMs: 0 };
  let redis: CheckRedis | undefined;
  try {
    if (options.store === 'redis') redis = await startCheckRedis();
    const runOptions: RunOptions = { trace: options.trace, ...(redis ? { redisUrl: redis.url, flushRedis: () => redis!.flush() } : {}) };
    for (const seed of options.seeds) {
      const full = options.schedule ?? drawSchedule(seed, options.store, options.ops, options.draw);
      const indices = options.only ?? full.ops.map((_, i) => i);
      const result = await runSchedule(restrict(full, indices), runOptions);
      add(summary, result);
      const line = `seed ${seed} ${options.store}: ${result.failures.length === 0 ? 'pass' : 'FAIL'} ${result.elapsedMs} ms, ${indices.length} ops, ${result.committed} events, ${result.delivered} delivered, ${result.gaps} gaps`;
      options.print(line);
      if (result.failures.length === 0) {
        summary.passed.push(seed);
        continue;
      }
      summary.failed.push(seed);
      report(result, 'failures');
      if (options.shrink && indices.length > 1) {
        options.print(`shrinking seed ${seed} (at most ${options.shrink.maxRuns} runs, ${Math.round(options.shrink.maxMs / 1000)} s) …`);
        const shrunk = await shrinkSchedule(full, indices, result, runOptions, options.shrink, options.print);
        options.print(`shrunk seed ${seed} to ${shrunk.kept.length} of ${full.ops.length} operations in ${shrunk.runs} runs (${Math.round(shrunk.elapsedMs / 1000)} s):`);
        options.print(`  settings ${JSON.stringify(full.settings)}`);
        for (const i of shrunk.kept) options.print(`  #${i} ${describeOp(full.ops[i]!)}`);
        report(shrunk.result, 'failures of the shrunk schedule');
        options.print(`rerun the shrunk schedule: ${rerunCommand(options.store, seed, options.ops, shrunk.kept, options.schedulePath, options.draw)}`);
      }
      options.print(`rerun: ${rerunCommand(options.store, seed, options.ops, options.only, options.schedulePath, options.draw)}`);
    }
  } finally {
    await redis?.stop();
  }
  summary.elapsedMs = Date.now() - started;
  return summary;

  function report(result: RunResult, title: string): void {
    options.print(`  ${title}:`);
    for (const failure of result.failures.slice(0, 15)) options.print(`  - ${failure}`);
    if (result.failures.length > 15) options.print(`  … and ${result.failures.length - 15} more`);
  }
}

function add(summary: Summary, result: RunResult): void {
  for (const [kind, count] of Object.entries(result.ran) as [OpKind, number][]) summary.ran[kind] = (summary.ran[kind] ?? 0) + count;
  summary.committed += result.committed;
  summary.webhooks += result.webhooks;
  summary.delivered += result.delivered;
  summary.gaps += result.gaps;
  summary.deadLettered += result.deadLettered;
  summary.unknownOutcomes += result.unknownOutcomes;
}

export function formatSummary(s: Summary): string[] {
  const seeds = s.passed.length + s.failed.length;
  const ops = Object.entries(s.ran)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([kind, n]) => `${kind} ${n}`)
    .join(', ');
  return [
    `store ${s.store}: ${seeds} seeds, ${s.passed.length} passed, ${s.failed.length} failed${s.failed.length > 0 ? ` (seeds ${s.failed.join(', ')})` : ''}`,
    `operations: ${ops}`,
    `events committed ${s.committed} (webhooks ${s.webhooks}, ${s.unknownOutcomes} answers lost to a crash), event frames delivered ${s.delivered}, gaps seen ${s.gaps}, dead letters ${s.deadLettered}`,
    `wall time ${(s.elapsedMs / 1000).toFixed(1)} s`,
  ];
}
