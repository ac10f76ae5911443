import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/** `full`: fsync per commit, survives power loss. `normal`: survives kill -9, not power loss. */
export type SqliteSynchronous = 'full' | 'normal';

/**
 * Opens a database file (created, with its folder, on first open) in WAL mode, as every
 * SQLite store of the relay uses it. `busyTimeoutMs`: how long a write waits for another
 * connection's write lock before failing.
 */
export function openSqlite(path: string, synchronous: SqliteSynchronous = 'full', busyTimeoutMs = 5000): Database.Database {
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous === 'normal' ? 'normal' : 'full'}`);
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}
