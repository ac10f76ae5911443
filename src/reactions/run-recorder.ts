/** How one handler run ended. */
export type RunOutcome = 'succeeded' | 'failed' | 'skipped';

export interface RunRecord {
  handler: string;
  eventId: string;
  eventType: string;
  outcome: RunOutcome;
  durationMs: number;
}

export interface RunTotals {
  handler: string;
  outcome: RunOutcome;
  count: number;
  totalMs: number;
}

/**
 * Counts every handler run by handler and outcome, with total duration: the numbers behind
 * the action-success-rate metric. In process only; listeners see each run as it ends.
 */
export class RunRecorder {
  readonly #totals = new Map<string, RunTotals>();
  readonly #listeners = new Set<(run: RunRecord) => void>();

  record(run: RunRecord): void {
    const slot = `${run.handler}\u0000${run.outcome}`;
    const totals = this.#totals.get(slot) ?? { handler: run.handler, outcome: run.outcome, count: 0, totalMs: 0 };
    totals.count++;
    totals.totalMs += run.durationMs;
    this.#totals.set(slot, totals);
    for (const listener of [...this.#listeners]) {
      try {
        listener(run);
      } catch {
        // An observer's failure never fails a reaction.
      }
    }
  }

  /** Totals per handler and outcome, sorted by handler then outcome. */
  totals(): RunTotals[] {
    return [...this.#totals.values()]
      .map((t) => ({ ...t }))
      .sort((a, b) => a.handler.localeCompare(b.handler) || a.outcome.localeCompare(b.outcome));
  }

  /** Calls `listener` after every run; returns the unsubscribe function. */
  onRun(listener: (run: RunRecord) => void): () => void {
    const entry = (run: RunRecord) => listener(run);
    this.#listeners.add(entry);
    return () => this.#listeners.delete(entry);
  }
}
