import type { LogOptions } from './log-options.js';
import type { SqliteSynchronous } from './sqlite-store.js';
import { SqliteStore } from './sqlite-store.js';
import { StoredEventLog } from './stored-event-log.js';

export interface SqliteEventLogOptions extends LogOptions {
  /** The database file; created, with its folder, on first open. */
  path: string;
  /** `full` (default): fsync per commit. `normal`: survives kill -9, not power loss. */
  synchronous?: SqliteSynchronous;
  /** How long a commit waits for another process's write lock before failing (default 5 s). */
  busyTimeoutMs?: number;
}

/** The event log in one SQLite file (WAL): the default, durable, single-machine backend. */
export class SqliteEventLog extends StoredEventLog {
  constructor({ path, synchronous = 'full', busyTimeoutMs = 5000, ...options }: SqliteEventLogOptions) {
    super(new SqliteStore(path, synchronous, busyTimeoutMs), options);
  }
}
