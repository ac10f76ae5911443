import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** How often the checkpointer copies new WAL frames into the database file. */
const CHECKPOINT_EVERY_MS = 100;
/**
 * A WAL this many pages long (16 MiB at 4 KiB pages) is started over: this process's appends
 * pause while the checkpointer copies the rest of it (see `restart` in the worker).
 */
const RESTART_AT_PAGES = 4096;
/** Checkpoints one restart makes at most, while commits of other writers keep adding frames. */
const RESTART_TRIES = 4;
/**
 * A WAL this many pages long (64 MiB) gets a TRUNCATE checkpoint, which waits for writers: a
 * backstop for when restarts fail, e.g. another process keeps committing to the same file.
 */
const TRUNCATE_AT_PAGES = 16_384;
/** How long an append waits for a restart to end before it commits anyway. */
const PAUSE_LIMIT_MS = 100;

/**
 * The checkpointer's thread, as source: it runs in a worker of its own (`eval`), so it loads
 * the same way from compiled JavaScript, from TypeScript under a loader, and inside a test
 * runner. It opens its own connection to the file and, every `everyMs`, runs a PASSIVE
 * checkpoint: new WAL frames are copied into the database file and that file is fsynced (the
 * connection's `synchronous`) before the WAL may be reused. PASSIVE never waits for the
 * writer nor blocks it.
 *
 * The WAL starts over (the next commit writes from its beginning) only if a checkpoint
 * copied all of it and no commit came since. A checkpoint takes about a millisecond (its
 * fsync); under a steady stream of commits, one every millisecond, that never happens and
 * the WAL grows without end. So once it is `restartAt` pages long the worker closes the gate
 * (`gate[0] = 1`): this process's appends wait (asynchronously, see `paused`) while it runs
 * PASSIVE checkpoints until one finds nothing new, then opens it; the first commit after
 * starts the WAL over. The pause lasts one checkpoint of the frames since the last one.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const closed = new Int32Array(workerData.closed);
const gate = new Int32Array(workerData.gate);
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
// [busy, frames in the WAL, frames copied], or undefined when another connection holds the checkpoint lock.
const checkpoint = (mode) => {
  try {
    return db.prepare('PRAGMA wal_checkpoint(' + mode + ')').raw(true).get();
  } catch {
    return undefined;
  }
};
const restart = () => {
  Atomics.store(gate, 0, 1);
  try {
    // A commit under way when the gate closed may land during the first checkpoint: the next copies it.
    let frames = -1;
    for (let i = 0; i < workerData.restartTries; i++) {
      const result = checkpoint('PASSIVE');
      if (result === undefined || result[0] !== 0) return;
      if (result[1] === frames && result[2] === frames) return;
      frames = result[1];
    }
  } finally {
    Atomics.store(gate, 0, 0);
    Atomics.notify(gate, 0);
  }
};
let timer;
const run = () => {
  const result = checkpoint('PASSIVE');
  if (result !== undefined && result[1] >= workerData.truncateAt) checkpoint('TRUNCATE');
  else if (result !== undefined && result[0] === 0 && result[1] >= workerData.restartAt) restart();
  timer = setTimeout(run, workerData.everyMs);
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
   * While the checkpointer is starting the WAL over, a promise that settles when it is done
   * (or after {@link PAUSE_LIMIT_MS}, whatever it is doing); otherwise undefined: append now.
   */
  paused(): Promise<void> | undefined;
  /**
   * Stops checkpointing and returns once the worker's connection is closed (a checkpoint
   * under way finishes first): the relay's connection, closed next, is then the last one, and
   * makes the final checkpoint and removes the WAL before `close` returns.
   */
  stop(): void;
}

/** The checkpointer's pace and restart threshold; the defaults are the relay's, tests make them small. */
export interface CheckpointTuning {
  everyMs?: number;
  restartAtPages?: number;
}

/**
 * Checkpoints a WAL-mode database on a worker thread, so the writer (with
 * `wal_autocheckpoint = 0`) never copies pages or fsyncs the database file on the event
 * loop. The worker's connection is the last to close when the relay's closes first, and then
 * makes the final checkpoint itself.
 */
export function startCheckpointer(path: string, synchronous: 'full' | 'normal', tuning: CheckpointTuning = {}): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  // Set to 1 by the worker once it holds no connection (closed, or never opened).
  const closed = new SharedArrayBuffer(4);
  // 1 while the worker asks this process's appends to wait.
  const gate = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      path,
      driver,
      closed,
      gate: gate.buffer,
      synchronous: synchronous === 'normal' ? 'NORMAL' : 'FULL',
      everyMs: tuning.everyMs ?? CHECKPOINT_EVERY_MS,
      restartAt: tuning.restartAtPages ?? RESTART_AT_PAGES,
      restartTries: RESTART_TRIES,
      truncateAt: TRUNCATE_AT_PAGES,
    },
  });
  worker.unref();
  // A worker that fails leaves the WAL to grow until the relay's own connection closes and
  // checkpoints: nothing is lost, so nothing is thrown.
  worker.on('error', () => undefined);
  return {
    paused: () => {
      if (Atomics.load(gate, 0) === 0) return undefined;
      const wait = Atomics.waitAsync(gate, 0, 1, PAUSE_LIMIT_MS);
      if (!wait.async) return undefined;
      // A pending waitAsync holds nothing of the event loop: without this timer a process
      // with nothing else to do would exit with the append unsettled.
      const keepAlive = setTimeout(() => undefined, PAUSE_LIMIT_MS);
      return wait.value.then(() => clearTimeout(keepAlive));
    },
    stop: () => {
      worker.postMessage('stop');
      Atomics.wait(new Int32Array(closed), 0, 0, STOP_WAIT_MS);
    },
  };
}
