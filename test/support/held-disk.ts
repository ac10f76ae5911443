import type { SyncFile } from '../../src/log/sqlite/wal-sync.js';

/** A disk whose WAL flushes finish when the test says, one at a time, in order. */
export function heldDisk() {
  const pending: ((error: Error | null) => void)[] = [];
  const sync: SyncFile = (_fd, done) => void pending.push(done);
  return {
    sync,
    /** Flushes started and not yet finished. */
    get started() {
      return pending.length;
    },
    finish(error: Error | null = null) {
      pending.shift()!(error);
    },
  };
}
