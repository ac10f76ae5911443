/**
 * A bound on something clients hold open (sessions, streams, feeds, long polls): at most
 * `perPrincipal` for one principal and `total` across all of them. `take` either grants a
 * slot, returned by calling `release` (idempotent), or names the limit that was reached.
 */
export interface BudgetLimits {
  perPrincipal: number;
  total: number;
}

export type BudgetGrant = { ok: true; release: () => void } | { ok: false; refusal: BudgetRefusal };

/** What a client is told: `limit` names the bound (`feeds`, `feeds_total`, …), `max` its size. */
export interface BudgetRefusal {
  limit: string;
  max: number;
  message: string;
}

export class Budget {
  readonly #held = new Map<string, number>();
  #total = 0;

  /** `what` is the plural noun a refusal names, e.g. `feeds` or `long polls`. */
  constructor(
    readonly what: string,
    readonly limits: BudgetLimits,
  ) {}

  /** Slots held now, in total or by one principal. */
  held(principal?: string): number {
    return principal === undefined ? this.#total : (this.#held.get(principal) ?? 0);
  }

  take(principal: string): BudgetGrant {
    const mine = this.#held.get(principal) ?? 0;
    const limit = this.what.replace(/ /g, '_');
    if (mine >= this.limits.perPrincipal) {
      return { ok: false, refusal: { limit, max: this.limits.perPrincipal, message: `at most ${this.limits.perPrincipal} ${this.what} per principal are open at once` } };
    }
    if (this.#total >= this.limits.total) {
      return { ok: false, refusal: { limit: `${limit}_total`, max: this.limits.total, message: `the relay holds its maximum of ${this.limits.total} ${this.what}; try again later` } };
    }
    this.#held.set(principal, mine + 1);
    this.#total++;
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        this.#total--;
        const left = (this.#held.get(principal) ?? 1) - 1;
        if (left === 0) this.#held.delete(principal);
        else this.#held.set(principal, left);
      },
    };
  }
}

/** Seconds an HTTP client refused by a budget is told to wait (`Retry-After`). */
export const RETRY_AFTER_S = 5;

/** The HTTP answer to a refusal: 429, `Retry-After`, and the limit as JSON. */
export function sendLimitReached(res: import('node:http').ServerResponse, refusal: BudgetRefusal): void {
  res
    .writeHead(429, { 'content-type': 'application/json', 'retry-after': String(RETRY_AFTER_S) })
    .end(JSON.stringify({ error: 'limit_reached', limit: refusal.limit, max: refusal.max, message: refusal.message }));
}
