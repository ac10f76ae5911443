/**
 * Timed loops. Every measurement stops at whichever of its op count or its time budget
 * comes first, so a fast backend cannot run for minutes and a slow one still reports a
 * rate over a useful sample.
 */
export interface Budget {
  maxOps: number;
  maxMs: number;
}

export interface Measurement {
  ops: number;
  seconds: number;
}

export function opsPerSecond(m: Measurement): number {
  return m.ops / m.seconds;
}

/** A synchronous op back to back, with no promise in between (the bare baselines). */
export function timeSync(op: () => void, budget: Budget): Measurement {
  const start = performance.now();
  const deadline = start + budget.maxMs;
  let ops = 0;
  while (ops < budget.maxOps && performance.now() < deadline) {
    op();
    ops++;
  }
  return { ops, seconds: (performance.now() - start) / 1000 };
}

/**
 * `producers` async loops, each awaiting its own op before starting the next. Ops are
 * counted when started; the clock stops once every started op has settled.
 */
export async function timeProducers(producers: number, op: () => Promise<unknown>, budget: Budget): Promise<Measurement> {
  const start = performance.now();
  const deadline = start + budget.maxMs;
  let ops = 0;
  const producer = async () => {
    while (ops < budget.maxOps && performance.now() < deadline) {
      ops++;
      await op();
    }
  };
  await Promise.all(Array.from({ length: producers }, producer));
  return { ops, seconds: (performance.now() - start) / 1000 };
}

/**
 * Repeats a pass (e.g. a full replay) that reports how many ops it did, at least once and
 * until the time budget is spent.
 */
export async function timePasses(pass: () => Promise<number> | number, maxMs: number): Promise<Measurement> {
  const start = performance.now();
  let ops = 0;
  do ops += await pass();
  while (performance.now() - start < maxMs);
  return { ops, seconds: (performance.now() - start) / 1000 };
}

/** Something measured a slice at a time; see {@link interleave}. */
export type Slice = (budget: Budget) => Promise<Measurement> | Measurement;

/**
 * Measures several contenders in `rounds` alternating slices of `budget / rounds` each and
 * sums each one's slices. On a shared VM the disk and the CPU change speed from one second
 * to the next; interleaving lets a baseline and what it is compared with see the same
 * moments, so their ratio is steadier than either rate.
 */
export async function interleave(slices: readonly Slice[], rounds: number, budget: Budget): Promise<Measurement[]> {
  const totals = slices.map(() => ({ ops: 0, seconds: 0 }));
  const perRound: Budget = { maxOps: Math.ceil(budget.maxOps / rounds), maxMs: budget.maxMs / rounds };
  for (let round = 0; round < rounds; round++) {
    // Rotate the order so no contender always runs right after the same neighbour.
    for (let k = 0; k < slices.length; k++) {
      const i = (k + round) % slices.length;
      const m = await slices[i]!(perRound);
      totals[i]!.ops += m.ops;
      totals[i]!.seconds += m.seconds;
    }
  }
  return totals;
}
