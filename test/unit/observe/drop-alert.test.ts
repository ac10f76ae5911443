import { describe, expect, it } from 'vitest';
import { MemoryEventLog } from '../../../src/log/memory/event-log.js';
import { DropAlert } from '../../../src/observe/drop-alert.js';
import { createLogger } from '../../../src/observe/logger.js';
import { WindowedStats } from '../../../src/observe/windowed-stats.js';
import { manualClock } from '../../support/events.js';

function alerting() {
  const clock = manualClock();
  const lines: { level: number; msg: string; state?: string }[] = [];
  const logger = createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line)) });
  const log = new MemoryEventLog();
  const stats = new WindowedStats();
  const alert = new DropAlert({ stats, log, logger, threshold: 0.1, windowMs: 60_000, now: clock.now });
  return { clock, lines, log, stats, alert };
}

describe('DropAlert', () => {
  it('stays clear while nothing came due or the rate is at the threshold', async () => {
    const { alert, stats, clock, lines, log } = alerting();
    await alert.evaluate();
    for (let i = 0; i < 9; i++) stats.due('stripe', 'payment.failed', false, clock.now());
    stats.due('stripe', 'payment.failed', true, clock.now());
    await alert.evaluate();
    expect(alert.current).toBeNull();
    expect(lines).toEqual([]);
    expect(await log.head()).toBeNull();
  });

  it('raises once, and clears once when the window no longer holds the drops: one log line and one relay.alert event each', async () => {
    const { alert, stats, clock, lines, log } = alerting();
    stats.due('stripe', 'payment.failed', true, clock.now());
    await alert.evaluate();
    await alert.evaluate();
    expect(alert.current).toMatchObject({ dropRate: 1, threshold: 0.1, offenders: [{ source: 'stripe', type: 'payment.failed', dropped: 1 }] });
    clock.advance(30_000);
    stats.due('stripe', 'payment.failed', false, clock.now());
    expect(alert.current?.dropRate).toBe(0.5);
    clock.advance(40_000);
    await alert.evaluate();
    await alert.evaluate();
    expect(alert.current).toBeNull();
    expect(lines.map((l) => [l.level, l.state])).toEqual([[40, 'raised'], [30, 'cleared']]);
    const { events } = await log.read({ after: null });
    expect(events.map((e) => [e.source, e.type, e.data.state])).toEqual([['relay', 'relay.alert', 'raised'], ['relay', 'relay.alert', 'cleared']]);
    expect(events[1]!.data.raisedAt).toBe(events[0]!.data.raisedAt);
  });

  it('logs an error and keeps the alert when the event cannot be appended', async () => {
    const { alert, stats, clock, lines, log } = alerting();
    await log.close();
    stats.due('stripe', 'payment.failed', true, clock.now());
    await alert.evaluate();
    expect(alert.current).not.toBeNull();
    expect(lines.map((l) => l.msg)).toEqual(['drop rate above threshold', 'relay.alert event could not be appended']);
  });
});
