import { afterEach, describe, expect, it } from 'vitest';
import { MemoryEventLog } from '../../../src/log/memory/event-log.js';
import { newEvent } from '../../support/events.js';

/** Calls `step` once per turn of the event loop (check phase) until it returns false. */
function everyTurn(step: (turn: number) => boolean): void {
  let turn = 0;
  const next = () => {
    if (step(++turn)) setImmediate(next);
  };
  setImmediate(next);
}

describe('group commit', () => {
  let log: MemoryEventLog;
  afterEach(() => log.close());

  it('commits a lone append on the first turn', async () => {
    log = new MemoryEventLog();
    let turns = 0;
    const appended = log.append(newEvent());
    everyTurn((turn) => {
      turns = turn;
      return turn < 10;
    });
    await appended;
    expect(turns).toBe(0);
  });

  it('keeps gathering while each turn brings more appends, then commits them together', async () => {
    log = new MemoryEventLog();
    const first = log.append(newEvent());
    const second = log.append(newEvent());
    const later: Promise<{ id: string }>[] = [];
    everyTurn((turn) => {
      later.push(log.append(newEvent()));
      return turn < 3;
    });
    await first;
    // Appends from three later turns made it into the first commit.
    expect(later).toHaveLength(3);
    expect(await log.head()).toBe((await later[2]!).id);
    expect((await second).id < (await later[0]!).id).toBe(true);
  });

  it('commits after 16 turns of gathering even while appends keep coming', async () => {
    log = new MemoryEventLog();
    let committed = false;
    let turns = 0;
    const first = log.append(newEvent()).then(() => (committed = true));
    void log.append(newEvent());
    everyTurn((turn) => {
      turns = turn;
      if (!committed) void log.append(newEvent());
      return !committed && turn < 100;
    });
    await first;
    expect(turns).toBeLessThanOrEqual(17);
  });
});
