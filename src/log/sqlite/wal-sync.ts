import { closeSync, fdatasync, openSync } from 'node:fs';

/** Flushes a file descriptor's data to disk; `fs.fdatasync` unless a test stands in. */
export type SyncFile = (fd: number, done: (error: Error | null) => void) => void;

/**
 * Makes appends durable off the main thread. An append commits with `synchronous = OFF` (its
 * WAL frames written, not yet flushed), then waits here for an `fdatasync` of the WAL file,
 * which runs on libuv's thread pool: the event loop goes on serving requests and streams
 * while the disk flushes, where a `synchronous = FULL` commit would hold it for the whole
 * fsync. What the flush covers is what `FULL` would have flushed: every frame written before
 * it started, header included.
 *
 * Group sync: one flush runs at a time. Commits made while it runs share the next one, which
 * starts when it ends, so flushes complete — and their promises settle — in commit order.
 */
export class WalSync {
  readonly #path: string;
  readonly #sync: SyncFile;
  #fd: number | undefined;
  #running = false;
  /** The flush that starts when the running one ends, shared by every commit made meanwhile. */
  #next: { promise: Promise<void>; resolve(): void; reject(error: Error): void } | undefined;
  #closing = false;

  constructor(walPath: string, sync: SyncFile = fdatasync) {
    this.#path = walPath;
    this.#sync = sync;
  }

  /** Resolves once everything committed before this call is on disk; rejects if the flush failed. */
  afterCommit(): Promise<void> {
    if (!this.#running) return this.#start();
    if (this.#next === undefined) {
      let resolve!: () => void;
      let reject!: (error: Error) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.#next = { promise, resolve, reject };
    }
    return this.#next.promise;
  }

  /** Closes the file once no flush is running or waiting. */
  close(): void {
    this.#closing = true;
    if (!this.#running) this.#closeFile();
  }

  #start(): Promise<void> {
    this.#running = true;
    return new Promise<void>((resolve, reject) => {
      let fd: number;
      try {
        // Opened on first use: SQLite creates the WAL file with the first write.
        fd = this.#fd ??= openSync(this.#path, 'r');
      } catch (error) {
        this.#finished();
        reject(error as Error);
        return;
      }
      this.#sync(fd, (error) => {
        this.#finished();
        if (error) reject(error);
        else resolve();
      });
    });
  }

  /** A flush ended: the waiting commits' flush starts now, or the file closes if that was asked. */
  #finished(): void {
    this.#running = false;
    const next = this.#next;
    this.#next = undefined;
    if (next !== undefined) this.#start().then(next.resolve, next.reject);
    else if (this.#closing) this.#closeFile();
  }

  #closeFile(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}
