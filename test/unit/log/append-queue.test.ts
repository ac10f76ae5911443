import { describe, expect, it } from 'vitest';
import { AppendQueue, type QueuedAppend } from '../../../src/log/append-queue.js';
import { validateNewEvents } from '../../../src/log/validate.js';
import { newEvent } from '../../support/events.js';

const pending = (n: number) => validateNewEvents([newEvent({ data: { n } })], Date.now());

const turns = async (count = 3) => {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
};

/** A commit whose end the test decides: each call is recorded with the appends it got. */
function heldCommits() {
  const calls: { queue: QueuedAppend[]; finish(): void }[] = [];
  const commit = (queue: QueuedAppend[]) =>
    new Promise<void>((resolve) => {
      calls.push({
        queue,
        finish: () => {
          queue.forEach((q) => q.resolve([]));
          resolve();
        },
      });
    });
  return { calls, commit };
}

describe('AppendQueue, one commit at a time', () => {
  it('holds appends made while a commit is under way, then commits them all together when it ends', async () => {
    const { calls, commit } = heldCommits();
    const queue = new AppendQueue(commit, { maxGatherTurns: 1, oneAtATime: true });
    const first = queue.push(pending(1));
    await turns();
    expect(calls.map((c) => c.queue.length)).toEqual([1]);
    const later = [queue.push(pending(2))];
    await turns();
    later.push(queue.push(pending(3)));
    await turns();
    // Gathering ended twice meanwhile; nothing committed while the first commit runs.
    expect(calls).toHaveLength(1);
    calls[0]!.finish();
    await first;
    await turns(1);
    expect(calls.map((c) => c.queue.map((q) => (q.events[0]!.data as { n: number }).n))).toEqual([[1], [2, 3]]);
    calls[1]!.finish();
    await Promise.all(later);
  });

  it('commits an append made after the last commit ended on the next turn, as usual', async () => {
    const { calls, commit } = heldCommits();
    const queue = new AppendQueue(commit, { oneAtATime: true });
    const first = queue.push(pending(1));
    await turns();
    calls[0]!.finish();
    await first;
    const second = queue.push(pending(2));
    await turns(2);
    expect(calls).toHaveLength(2);
    calls[1]!.finish();
    await second;
  });

  it('without oneAtATime, starts the next commit while one is under way', async () => {
    const { calls, commit } = heldCommits();
    const queue = new AppendQueue(commit, { maxGatherTurns: 1 });
    const appends = [queue.push(pending(1))];
    await turns();
    appends.push(queue.push(pending(2)));
    await turns();
    expect(calls).toHaveLength(2);
    calls.forEach((c) => c.finish());
    await Promise.all(appends);
  });

  it('flush commits what is queued at once, even while a commit is under way (closing the log)', async () => {
    const { calls, commit } = heldCommits();
    const queue = new AppendQueue(commit, { oneAtATime: true });
    const first = queue.push(pending(1));
    await turns();
    const second = queue.push(pending(2));
    const flushed = queue.flush();
    expect(calls).toHaveLength(2);
    calls.forEach((c) => c.finish());
    await Promise.all([first, second, flushed]);
    await turns();
    expect(calls).toHaveLength(2);
  });
});
