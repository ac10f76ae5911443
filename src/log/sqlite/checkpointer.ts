import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** How often the checkpointer copies new WAL frames into the database file. */
const CHECKPOINT_EVERY_MS = 100;
/**
 * A WAL this many pages long (64 MiB at 4 KiB pages) gets a TRUNCATE checkpoint, which waits
 * for writers: a backstop for a log written faster than passive checkpoints catch up.
 */
const TRUNCATE_AT_PAGES = 16_384;
/** Checkpoints in a row, 1 ms apart, while each leaves frames behind; then the usual pause. */
const MAX_RETRIES = 50;

/**
 * The checkpointer's thread, as source: it runs in a worker of its own (`eval`), so it loads
 * the same way from compiled JavaScript, from TypeScript under a loader, and inside a test
 * runner. It opens its own connection to the file and, every `everyMs` (at once again while
 * one left frames behind), runs a PASSIVE checkpoint: new WAL frames are copied into the
 * database file and that file is fsynced (the connection's `synchronous`) before the WAL may
 * be reused. PASSIVE never waits for the writer nor blocks it.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const closed = new Int32Array(workerData.closed);
const done = () => {
  Atomics.store(closed, 0, 1);
  Atomics.notify(closed, 0);
};
let db;
try {
  const Database = require(workerData.driver);
  db = new Database(workerData.path);
  db.pragma('busy_timeout = 0');
  db.pragma('synchronous = ' + workerData.synchronous);
} catch {
  db = undefined; // nothing to checkpoint with: the relay's own connection checkpoints when it closes
}
const checkpoint = (mode) => {
  try {
    return db.prepare('PRAGMA wal_checkpoint(' + mode + ')').raw(true).get();
  } catch {
    return undefined; // another connection holds the checkpoint lock
  }
};
let timer;
let retries = 0;
const run = () => {
  const result = checkpoint('PASSIVE'); // [busy, frames in the WAL, frames copied]
  if (result !== undefined && result[1] >= workerData.truncateAt) checkpoint('TRUNCATE');
  // Frames committed while it ran are left: go again at once, while they are few. The WAL
  // starts over only after a checkpoint copied all of it, so under a steady stream of commits
  // a checkpoint every 100 ms would never catch up and the WAL would grow to the backstop.
  // Not while another connection holds the checkpoint (busy), and not forever while a reader
  // of another process keeps old frames in use.
  const behind = result !== undefined && result[0] === 0 && result[2] < result[1];
  retries = behind && retries < workerData.maxRetries ? retries + 1 : 0;
  timer = setTimeout(run, retries > 0 ? 1 : workerData.everyMs);
};
if (db === undefined) done();
else timer = setTimeout(run, workerData.everyMs);
parentPort.on('message', () => {
  clearTimeout(timer);
  db?.close();
  done();
  parentPort.close();
});
`;

/** How long {@link Checkpointer.stop} waits for a checkpoint under way to finish. */
const STOP_WAIT_MS = 5000;

export interface Checkpointer {
  /**
   * Stops checkpointing and returns once the worker's connection is closed (a checkpoint
   * under way finishes first): the relay's connection, closed next, is then the last one, and
   * makes the final checkpoint and removes the WAL before `close` returns.
   */
  stop(): void;
}

/**
 * Checkpoints a WAL-mode database on a worker thread, so the writer (with
 * `wal_autocheckpoint = 0`) never copies pages or fsyncs the database file on the event
 * loop. The worker's connection is the last to close when the relay's closes first, and then
 * makes the final checkpoint itself.
 */
export function startCheckpointer(path: string, synchronous: 'full' | 'normal'): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  // Set to 1 by the worker once it holds no connection (closed, or never opened).
  const closed = new SharedArrayBuffer(4);
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { path, driver, closed, synchronous: synchronous === 'normal' ? 'NORMAL' : 'FULL', everyMs: CHECKPOINT_EVERY_MS, truncateAt: TRUNCATE_AT_PAGES, maxRetries: MAX_RETRIES },
  });
  worker.unref();
  // A worker that fails leaves the WAL to grow until the relay's own connection closes and
  // checkpoints: nothing is lost, so nothing is thrown.
  worker.on('error', () => undefined);
  return {
    stop: () => {
      worker.postMessage('stop');
      Atomics.wait(new Int32Array(closed), 0, 0, STOP_WAIT_MS);
    },
  };
}
