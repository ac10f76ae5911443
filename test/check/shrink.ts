import type { RunOptions, RunResult } from './execute.js';
import { runSchedule } from './execute.js';
import type { Op, Schedule } from './schedule.js';

export interface ShrinkBudget {
  maxRuns: number;
  maxMs: number;
}

export interface Shrunk {
  /** Indices into the seed's full schedule of the operations kept. */
  kept: number[];
  result: RunResult;
  runs: number;
  elapsedMs: number;
}

/**
 * A failure's kind, without the ids, counts and times that differ from run to run: a
 * smaller schedule counts as reproducing the failure only when it fails the same way.
 */
export function failureKind(failure: string): string {
  return failure
    .replace(/[0-9A-HJKMNP-TV-Z]{26}/g, '<id>')
    .replace(/\d+/g, 'N')
    .replace(/^(.*?): #N: /, '$1: ');
}

/**
 * Drops operations while the schedule still fails the same way: first halves, then smaller
 * and smaller chunks down to one operation at a time (delta debugging without the
 * complements). Each candidate runs once; a failure that only shows with some timing shrinks
 * less, never wrongly.
 */
export async function shrinkSchedule(schedule: Schedule, indices: number[], first: RunResult, options: RunOptions, budget: ShrinkBudget, onStep?: (line: string) => void): Promise<Shrunk> {
  const started = Date.now();
  const kinds = new Set(first.failures.map(failureKind));
  let kept = indices;
  let best = first;
  let runs = 0;
  const within = () => runs < budget.maxRuns && Date.now() - started < budget.maxMs;
  for (let chunk = Math.ceil(kept.length / 2); chunk >= 1 && within(); chunk = chunk === 1 ? 0 : Math.ceil(chunk / 2)) {
    for (let at = 0; at < kept.length && within(); ) {
      const candidate = [...kept.slice(0, at), ...kept.slice(at + chunk)];
      if (candidate.length === 0) {
        at += chunk;
        continue;
      }
      runs++;
      const result = await runSchedule(restrict(schedule, candidate), options);
      if (result.failures.some((f) => kinds.has(failureKind(f)))) {
        kept = candidate;
        best = result;
        onStep?.(`  shrink: ${kept.length} operations still fail (${runs} runs)`);
      } else {
        at += chunk;
      }
    }
  }
  return { kept, result: best, runs, elapsedMs: Date.now() - started };
}

/** The schedule with only the operations at `indices` (in their order). */
export function restrict(schedule: Schedule, indices: readonly number[]): Schedule {
  return { ...schedule, ops: indices.map((i) => schedule.ops[i]).filter((op): op is Op => op !== undefined) };
}
