import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type { AppendBatch } from '../../src/log/append-notifier.js';
import { SqliteEventLog } from '../../src/log/sqlite/event-log.js';
import type { SyncFile } from '../../src/log/sqlite/wal-sync.js';
import { until } from '../contract/log-factory.js';
import { newEvent } from '../support/events.js';
import { heldDisk } from '../support/held-disk.js';

const dir = mkdtempSync(join(tmpdir(), 'relay-sqlite-flush-'));
let n = 0;
const freshPath = () => join(dir, `log-${++n}.db`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const turns = async (count = 3) => {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
};

let open: SqliteEventLog[] = [];
afterEach(async () => {
  await Promise.all(open.map((log) => log.close()));
  open = [];
});

function logOn(disk: ReturnType<typeof heldDisk>, path = freshPath()): { log: SqliteEventLog; batches: AppendBatch[] } {
  const log = new SqliteEventLog({ path, syncWal: disk.sync });
  open.push(log);
  const batches: AppendBatch[] = [];
  log.onCommit((batch) => batches.push(batch));
  return { log, batches };
}

describe('SqliteEventLog with synchronous=full: the WAL flush runs off the event loop', () => {
  it('answers an append, and hands its events to followers, only once its flush has finished', async () => {
    const disk = heldDisk();
    const { log, batches } = logOn(disk);
    let answered = false;
    const append = log.append(newEvent()).then((result) => {
      answered = true;
      return result;
    });
    await until(() => disk.started === 1);
    await turns();
    // Committed (the log holds it: readers that read find it) but not yet on disk.
    expect((await log.read({ after: null, limit: 10 })).events).toHaveLength(1);
    expect(answered).toBe(false);
    expect(batches).toEqual([]);
    disk.finish();
    const result = await append;
    expect(result.duplicate).toBe(false);
    expect(batches.map((b) => b.events.map((e) => e.id))).toEqual([[result.id]]);
  });

  it('rejects appends whose flush failed with store_unavailable; the retried delivery is then answered as a duplicate of the same id', async () => {
    const disk = heldDisk();
    const { log } = logOn(disk);
    const delivery = newEvent();
    const first = log.append(delivery);
    await until(() => disk.started === 1);
    disk.finish(new Error('EIO: i/o error, fdatasync'));
    await expect(first).rejects.toMatchObject({ code: 'store_unavailable', message: 'the event log could not flush its commit to disk' });
    const [stored] = (await log.read({ after: null, limit: 10 })).events;
    const retry = log.append(delivery);
    await until(() => disk.started === 1);
    disk.finish();
    await expect(retry).resolves.toMatchObject({ id: stored!.id, duplicate: true });
  });

  it('holds appends made while a flush runs until it ends, then commits them in one transaction and hands them over as one batch', async () => {
    const disk = heldDisk();
    const { log, batches } = logOn(disk);
    const first = log.append(newEvent());
    await until(() => disk.started === 1);
    const second = log.append(newEvent());
    await turns();
    const third = log.append(newEvent());
    await turns();
    // They would wait for the next flush anyway: not committed yet, no second flush asked for.
    expect((await log.read({ after: null, limit: 10 })).events).toHaveLength(1);
    expect(disk.started).toBe(1);
    disk.finish();
    const a = await first;
    await until(() => disk.started === 1);
    expect((await log.read({ after: null, limit: 10 })).events).toHaveLength(3);
    disk.finish();
    const [b, c] = await Promise.all([second, third]);
    await until(() => batches.length === 2);
    expect(batches.map((batch) => ({ prev: batch.prev, ids: batch.events.map((e) => e.id) }))).toEqual([
      { prev: null, ids: [a.id] },
      { prev: a.id, ids: [b.id, c.id] },
    ]);
  });

  it('hands the commits of a busy log to followers together, 4 ms after the last hand-over, and one after 2 quiet ms at once', async () => {
    // The clock moves only when the test says: whether a commit counts as quiet must not
    // depend on how fast this machine runs the test.
    vi.useFakeTimers({ toFake: ['performance', 'setTimeout', 'clearTimeout'] });
    try {
      const disk = heldDisk();
      const { log, batches } = logOn(disk);
      const flushed = async () => {
        const append = log.append(newEvent());
        for (let i = 0; i < 50 && disk.started === 0; i++) await turns(1);
        disk.finish();
        return (await append).id;
      };
      const ids = (): string[][] => batches.map((batch) => batch.events.map((e) => e.id));
      const a = await flushed();
      expect(ids()).toEqual([[a]]);
      vi.advanceTimersByTime(1);
      const b = await flushed();
      const c = await flushed();
      await turns();
      expect(ids()).toEqual([[a]]);
      vi.advanceTimersByTime(2);
      expect(ids()).toEqual([[a]]);
      vi.advanceTimersByTime(1);
      expect(ids()).toEqual([[a], [b, c]]);
      vi.advanceTimersByTime(2);
      const d = await flushed();
      expect(ids()).toEqual([[a], [b, c], [d]]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('commits on the next turn even while appends keep coming: gathering more turns would only delay the commit, as flushes are shared anyway', async () => {
    let log: SqliteEventLog | undefined;
    const inFirstCommit: Promise<number>[] = [];
    // The log as it stands when the first commit asks for its flush: that commit's events.
    const disk: SyncFile = (_fd, done) => {
      if (inFirstCommit.length === 0) inFirstCommit.push(log!.read({ after: null, limit: 1000 }).then((page) => page.events.length));
      done(null);
    };
    log = new SqliteEventLog({ path: freshPath(), syncWal: disk });
    open.push(log);
    const first = log.append(newEvent());
    const appends = [first, log.append(newEvent())];
    let turn = 0;
    let stopped = false;
    const more = (): void => {
      if (stopped) return;
      appends.push(log!.append(newEvent()));
      if (++turn < 40) setImmediate(more);
    };
    setImmediate(more);
    await first;
    stopped = true;
    await Promise.all(appends);
    // The first append, and those of at most the next turn or two: not 16 turns' worth.
    expect(await inFirstCommit[0]).toBeLessThanOrEqual(4);
  });

  it('leaves checkpoints to a worker: rows reach the database file while the relay only appends', async () => {
    const path = freshPath();
    const log = new SqliteEventLog({ path });
    open.push(log);
    const before = statSync(path).size;
    for (let i = 0; i < 20; i++) await log.append(Array.from({ length: 50 }, () => newEvent({ data: { padding: 'x'.repeat(500) } })));
    await until(() => statSync(path).size > before + 256 * 1024);
    await log.close();
    open = [];
    const reopened = new SqliteEventLog({ path });
    open.push(reopened);
    expect(await reopened.retained()).toBe(1000);
  });
});

describe('SqliteEventLog under a steady stream of commits: the WAL starts over', () => {
  it('pauses appends while the checkpointer copies the last frames, so the WAL does not grow without end, and a paused append keeps its process alive', async () => {
    // Back to back, two at a time (steady-appender.ts): never a millisecond without a commit,
    // so only a pause lets a checkpoint copy the whole WAL. Each commit writes a few pages:
    // ~10,000 frames in all.
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../support/steady-appender.ts'), freshPath(), '1500'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const output: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    const [, appended, , walPages] = Buffer.concat(output).toString().trim().split(' ');
    expect(Number(appended)).toBe(3000);
    // 64 pages and what came in until the next checkpoint (~500 here); without the pauses
    // the WAL holds every commit's frames.
    expect(Number(walPages)).toBeLessThan(3000);
  });
});
