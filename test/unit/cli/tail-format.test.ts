import { describe, expect, it } from 'vitest';
import { formatSubscriptionError } from '../../../src/cli/tail-format.js';
import { LOG_START } from '../../../src/events/ulid.js';

const AFTER = '01J00000000000000000000001';
const TRIMMED = '01J00000000000000000000009';

describe('tail: the stderr line for a gap', () => {
  it('names the range retention removed', () => {
    expect(formatSubscriptionError({ kind: 'truncated', after: AFTER, resumedAt: TRIMMED })).toBe(
      `tail: events after ${AFTER} through ${TRIMMED} are no longer retained and were skipped`,
    );
  });

  it('says the resume point was unknown when the relay resumed at the start of the log', () => {
    expect(formatSubscriptionError({ kind: 'truncated', after: AFTER, resumedAt: LOG_START })).toBe(
      `tail: resume point ${AFTER} is unknown to the relay; resuming from the oldest retained event`,
    );
  });

  it('does not invent an end when the server did not say where it resumed', () => {
    expect(formatSubscriptionError({ kind: 'truncated', after: AFTER, resumedAt: null })).toBe(
      `tail: events after ${AFTER} are no longer retained; some were skipped`,
    );
  });
});
