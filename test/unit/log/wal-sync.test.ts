import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WalSync } from '../../../src/log/sqlite/wal-sync.js';
import { heldDisk } from '../../support/held-disk.js';

const dir = mkdtempSync(join(tmpdir(), 'relay-wal-sync-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function walFile(): string {
  const path = join(dir, `${Math.random().toString(36).slice(2)}.db-wal`);
  writeFileSync(path, '');
  return path;
}

const settled = (promise: Promise<void>) => {
  const state = { done: false, error: undefined as Error | undefined };
  promise.then(
    () => (state.done = true),
    (error: Error) => {
      state.done = true;
      state.error = error;
    },
  );
  return state;
};
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('WalSync', () => {
  it('settles a commit only after a flush that started after it, and shares one flush among the commits made during another', async () => {
    const disk = heldDisk();
    const wal = new WalSync(walFile(), disk.sync);
    const first = settled(wal.afterCommit());
    expect(disk.started).toBe(1);
    const second = settled(wal.afterCommit());
    const third = settled(wal.afterCommit());
    // Both wait for the flush that starts when the first ends: one more, not two.
    expect(disk.started).toBe(1);
    await turn();
    expect([first.done, second.done, third.done]).toEqual([false, false, false]);
    disk.finish();
    await turn();
    expect([first.done, second.done, third.done]).toEqual([true, false, false]);
    expect(disk.started).toBe(1);
    disk.finish();
    await turn();
    expect([second.done, third.done]).toEqual([true, true]);
    expect(disk.started).toBe(0);
  });

  it('rejects the commits a failed flush covered, and the next flush covers the later ones', async () => {
    const disk = heldDisk();
    const wal = new WalSync(walFile(), disk.sync);
    const failed = settled(wal.afterCommit());
    const later = settled(wal.afterCommit());
    disk.finish(new Error('EIO: i/o error, fdatasync'));
    await turn();
    expect(failed.error?.message).toMatch(/EIO/);
    expect(later.done).toBe(false);
    disk.finish();
    await turn();
    expect(later).toEqual({ done: true, error: undefined });
  });

  it('rejects when the WAL file cannot be opened, and starts afresh on the next commit', async () => {
    const disk = heldDisk();
    const missing = join(dir, 'never-created.db-wal');
    const wal = new WalSync(missing, disk.sync);
    await expect(wal.afterCommit()).rejects.toThrow(/ENOENT/);
    writeFileSync(missing, '');
    const next = settled(wal.afterCommit());
    expect(disk.started).toBe(1);
    disk.finish();
    await turn();
    expect(next).toEqual({ done: true, error: undefined });
  });

  it('flushes a real file with fdatasync', async () => {
    const wal = new WalSync(walFile());
    await expect(Promise.all([wal.afterCommit(), wal.afterCommit(), wal.afterCommit()])).resolves.toHaveLength(3);
    wal.close();
  });
});
