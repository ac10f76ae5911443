import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EventFilter } from '../../../src/events/filter.js';
import { compileFilter, eventFilterSchema } from '../../../src/events/filter.js';

const event = (type: string, source = 'stripe', subject?: string) => ({ type, source, subject });

describe('event filters', () => {
  it('matches everything without a filter, with empty lists and with "*"', () => {
    for (const filter of [undefined, {}, { types: [] }, { types: ['*'] }] as (EventFilter | undefined)[]) {
      expect(compileFilter(filter)(event('anything.at.all'))).toBe(true);
    }
  });

  it('matches exact types and globs, dots included', () => {
    const matches = compileFilter({ types: ['payment.*', 'order.shipped'] });
    expect(matches(event('payment.failed'))).toBe(true);
    expect(matches(event('payment.intent.failed'))).toBe(true);
    expect(matches(event('order.shipped'))).toBe(true);
    expect(matches(event('order.delayed'))).toBe(false);
    expect(matches(event('payments.failed'))).toBe(false);
  });

  it('answers at once for a pattern of many stars and a character that cannot match', () => {
    // As a regular expression this backtracked exponentially: 18 stars blocked the relay 18 s.
    const matches = compileFilter({ types: [`${'*'.repeat(199)}!`] });
    expect(matches(event('a'.repeat(10_000)))).toBe(false);
    expect(matches(event(`${'a'.repeat(10_000)}!`))).toBe(true);
  });

  it('matches globs exactly as the equivalent anchored regular expression would', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'b', '.', '*'), maxLength: 12 });
    fc.assert(
      fc.property(text.filter((p) => p.includes('*')), fc.string({ unit: fc.constantFrom('a', 'b', '.'), maxLength: 12 }), (glob, value) => {
        const oracle = new RegExp(`^${glob.split('*').map((part) => part.replace(/[.]/g, '\\.')).join('.*')}$`, 's');
        expect(compileFilter({ types: [glob] })(event(value))).toBe(oracle.test(value));
      }),
      { numRuns: 3000 },
    );
  });

  it('treats regular-expression characters in patterns literally', () => {
    const matches = compileFilter({ types: ['a+b.(c)*'] });
    expect(matches(event('a+b.(c)x'))).toBe(true);
    expect(matches(event('aab.(c)x'))).toBe(false);
  });

  it('requires every given list to match, and an event without a subject fails a subject filter', () => {
    const matches = compileFilter({ types: ['ticket.*'], sources: ['zendesk'], subjects: ['ticket:*'] });
    expect(matches(event('ticket.created', 'zendesk', 'ticket:1'))).toBe(true);
    expect(matches(event('ticket.created', 'github', 'ticket:1'))).toBe(false);
    expect(matches(event('ticket.created', 'zendesk'))).toBe(false);
  });

  it('rejects empty patterns and unknown keys', () => {
    expect(eventFilterSchema.safeParse({ types: [''] }).success).toBe(false);
    expect(eventFilterSchema.safeParse({ kinds: ['x'] }).success).toBe(false);
  });
});
