import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/observe/logger.js';
import { REPEAT_INTERVAL_MS, RepeatedFailures } from '../../../src/observe/repeated-failures.js';
import { manualClock } from '../../support/events.js';

function repeated() {
  const clock = manualClock();
  const lines: { level: number; msg: string; source?: string; repeated?: number; err?: { message: string; stack: string } }[] = [];
  const logger = createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { clock, lines, failures: new RepeatedFailures(logger, REPEAT_INTERVAL_MS, clock.now) };
}

const outage = () => new Error('the event log could not commit', { cause: new Error('connect ECONNREFUSED 127.0.0.1:6379') });

describe('RepeatedFailures', () => {
  it('logs the first failure with its error, holds back the same one within the interval, and counts them on the next line after it', () => {
    const { clock, lines, failures } = repeated();
    failures.log('error', { err: outage(), source: 'stripe' }, 'webhook commit failed');
    for (let i = 0; i < 4; i++) {
      clock.advance(REPEAT_INTERVAL_MS / 5);
      failures.log('error', { err: outage(), source: 'stripe' }, 'webhook commit failed');
    }
    expect(lines).toEqual([expect.objectContaining({ level: 50, msg: 'webhook commit failed', source: 'stripe', err: expect.objectContaining({ message: expect.stringContaining('the event log could not commit') }) })]);
    expect(lines[0]!.repeated).toBeUndefined();

    clock.advance(REPEAT_INTERVAL_MS / 5);
    failures.log('error', { err: outage(), source: 'stripe' }, 'webhook commit failed');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ msg: 'webhook commit failed', source: 'stripe', repeated: 4 });

    clock.advance(REPEAT_INTERVAL_MS);
    failures.log('error', { err: outage(), source: 'stripe' }, 'webhook commit failed');
    expect(lines[2]!.repeated).toBeUndefined();
  });

  it('tells different failures apart: another field, another cause, another level', () => {
    const { lines, failures } = repeated();
    failures.log('error', { err: outage(), source: 'stripe' }, 'webhook commit failed');
    failures.log('error', { err: outage(), source: 'github' }, 'webhook commit failed');
    failures.log('error', { err: new Error('the event log could not commit', { cause: new Error('Connection is closed.') }), source: 'stripe' }, 'webhook commit failed');
    failures.log('warn', { err: outage(), source: 'stripe' }, 'webhook commit failed');
    failures.log('error', { err: outage(), source: 'stripe' }, 'webhook commit failed');
    expect(lines.map((l) => [l.level, l.source])).toEqual([
      [50, 'stripe'],
      [50, 'github'],
      [50, 'stripe'],
      [40, 'stripe'],
    ]);
  });
});
