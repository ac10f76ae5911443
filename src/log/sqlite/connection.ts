import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { type Checkpointer, type CheckpointTuning, startCheckpointer } from './checkpointer.js';

/** `full`: fsync per commit, survives power loss. `normal`: survives kill -9, not power loss. */
export type SqliteSynchronous = 'full' | 'normal';

const checkpointers = new WeakMap<Database.Database, Checkpointer>();

/**
 * Opens a database file (created, with its folder, on first open) in WAL mode, as every
 * SQLite store of the relay uses it. `busyTimeoutMs`: how long a write waits for another
 * connection's write lock before failing. Checkpoints run on a worker thread with a
 * connection of its own (see checkpointer.ts), never on this one: close it with
 * {@link closeSqlite}, which stops them.
 */
export function openSqlite(path: string, synchronous: SqliteSynchronous = 'full', busyTimeoutMs = 5000, checkpoints: CheckpointTuning = {}): Database.Database {
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous === 'normal' ? 'normal' : 'full'}`);
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    db.pragma('wal_autocheckpoint = 0');
  } catch (error) {
    db.close();
    throw error;
  }
  checkpointers.set(db, startCheckpointer(path, synchronous, checkpoints));
  return db;
}

/** Closes a database {@link openSqlite} opened, and stops its checkpoints. Idempotent. */
export function closeSqlite(db: Database.Database): void {
  checkpointers.get(db)?.stop();
  checkpointers.delete(db);
  if (db.open) db.close();
}

/** While the checkpointer of a database {@link openSqlite} opened is starting its WAL over, a promise that settles when it is done. */
export function checkpointPause(db: Database.Database): Promise<void> | undefined {
  return checkpointers.get(db)?.paused();
}

/** A store's own database file. */
export interface SqliteFile {
  /** The database file; created, with its folder, on first open. */
  path: string;
  /** `full` (default): fsync per commit. `normal`: survives kill -9, not power loss. */
  synchronous?: SqliteSynchronous;
  /** How long a write waits for another connection's write lock before failing (default 5 s). */
  busyTimeoutMs?: number;
  /** The checkpointer's pace (checkpointer.ts); the defaults suit the relay, tests make it quicker. */
  checkpoints?: CheckpointTuning;
}

/** A database opened by `openSqlite` and shared between stores; its opener closes it. */
export interface SqliteShared {
  database: Database.Database;
}

/** Where a SQLite store keeps its data: a file of its own, or a shared database. */
export type SqliteTarget = SqliteFile | SqliteShared;

/**
 * The database `options` name, whether the store owns it (opened it, so closes it), and the
 * options that are not about the database.
 */
export function openTarget<T extends object>(options: T & SqliteTarget): { db: Database.Database; owned: boolean; rest: Omit<T, keyof SqliteFile | keyof SqliteShared> } {
  const { path, synchronous, busyTimeoutMs, checkpoints, database, ...rest } = options as T & Partial<SqliteFile & SqliteShared>;
  if (database !== undefined) return { db: database, owned: false, rest };
  return { db: openSqlite(path!, synchronous, busyTimeoutMs, checkpoints), owned: true, rest };
}
