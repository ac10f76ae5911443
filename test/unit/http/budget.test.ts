import { describe, expect, it } from 'vitest';
import { Budget } from '../../../src/http/budget.js';

describe('Budget', () => {
  it('grants up to the per-principal bound, then names that bound', () => {
    const budget = new Budget('feeds', { perPrincipal: 2, total: 10 });
    expect(budget.take('alice').ok).toBe(true);
    expect(budget.take('alice').ok).toBe(true);
    const third = budget.take('alice');
    expect(third).toMatchObject({ ok: false, refusal: { limit: 'feeds', max: 2 } });
    expect(budget.take('bob').ok).toBe(true);
    expect(budget.held('alice')).toBe(2);
    expect(budget.held()).toBe(3);
  });

  it('refuses everyone once the total is held, naming the total', () => {
    const budget = new Budget('long polls', { perPrincipal: 5, total: 3 });
    for (const principal of ['a', 'b', 'c']) expect(budget.take(principal).ok).toBe(true);
    expect(budget.take('d')).toMatchObject({ ok: false, refusal: { limit: 'long_polls_total', max: 3 } });
  });

  it('a released slot can be taken again, and releasing twice returns it once', () => {
    const budget = new Budget('sessions', { perPrincipal: 1, total: 1 });
    const first = budget.take('alice');
    if (!first.ok) throw new Error('expected a grant');
    first.release();
    first.release();
    expect(budget.held()).toBe(0);
    expect(budget.held('alice')).toBe(0);
    const again = budget.take('alice');
    expect(again.ok).toBe(true);
    expect(budget.take('bob').ok).toBe(false);
  });
});
