import type Database from 'better-sqlite3';
import type { Event } from '../../events/event.js';
import { ulidFloor } from '../../events/ulid.js';
import type { TrimResult } from '../event-log.js';
import type { LogOptions } from '../log-options.js';
import type { LogStore } from '../log-store.js';
import type { ScanRow } from '../scan.js';
import { StoredEventLog } from '../stored-event-log.js';
import { checkpointPause, closeSqlite, openTarget, type SqliteTarget } from './connection.js';
import { SqliteGroupRows, SqliteRow } from './groups.js';
import { SCHEMA, SCHEMA_VERSION } from './schema.js';
import { type SyncFile, WalSync } from './wal-sync.js';

export type SqliteEventLogOptions = LogOptions &
  SqliteTarget & {
    /** How appends flush the WAL file to disk (default `fs.fdatasync`); tests stand in for the disk here. */
    syncWal?: SyncFile;
  };

/** The event log in one SQLite file (WAL): the default, durable, single-machine backend. */
export class SqliteEventLog extends StoredEventLog {
  constructor(options: SqliteEventLogOptions) {
    const { syncWal, ...target } = options;
    const { db, owned, rest } = openTarget(target);
    super(new SqliteStore(db, owned, syncWal), rest);
  }
}

/** `[seq, id, type, source, subject, body]`: scans read arrays, cheaper than row objects. */
type RawEventRow = [number, string, string, string, string | null, string];

const FOREIGN_COMMIT_POLL_MS = 100;
/** `PRAGMA synchronous` as a number: 2 is FULL. */
const FULL = 2;

/**
 * The last position ever assigned: the newest retained event's, or — once retention emptied
 * the table — the last one trimmed (kept in `meta`). Positions only grow, so a group's floor
 * never stands ahead of events committed after a full trim.
 */
const LAST_SEQ = `SELECT COALESCE(MAX(seq), (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'trimmed_seq'), 0) FROM events`;

/**
 * Log primitives on one SQLite file in WAL mode. With `synchronous = full` (the default) a
 * commit is fsynced before it returns, so an acknowledged webhook survives power loss;
 * `normal` survives a process crash (kill -9) but not an OS crash. Writes run under
 * `BEGIN IMMEDIATE`, which also serializes several processes sharing the file.
 */
class SqliteStore extends SqliteGroupRows implements LogStore {
  readonly kind = 'sqlite' as const;
  readonly #db: Database.Database;
  /** Whether `close` closes the database: not when it is shared (`openBackend` closes it). */
  readonly #ownsDb: boolean;
  readonly #inTransaction: (fn: () => unknown) => unknown;
  /** Set when commits must be fsynced (`synchronous = FULL` on a file): appends then flush off the event loop. */
  readonly #walSync: WalSync | undefined;
  /**
   * An append flushed off the event loop commits on the next turn: commits made while a flush
   * runs share the next one (WalSync), and gathering more turns only delayed them (push p99
   * at 1,000 webhooks/s from about 13 to 10 ms, bench `latency`).
   */
  readonly gatherTurns: number | undefined;
  readonly #q;

  constructor(db: Database.Database, ownsDb: boolean, syncWal: SyncFile | undefined) {
    db.exec(SCHEMA);
    const version = db.prepare(`SELECT value FROM meta WHERE key = 'schema'`).pluck().get() as string | undefined;
    if (version === undefined) db.prepare(`INSERT INTO meta (key, value) VALUES ('schema', ?)`).run(SCHEMA_VERSION);
    else if (version !== SCHEMA_VERSION) {
      if (ownsDb) closeSqlite(db);
      throw new Error(`${db.name} has event-log schema ${version}; this relay reads schema ${SCHEMA_VERSION}`);
    }
    super(db);
    this.#db = db;
    this.#ownsDb = ownsDb;
    const tx = db.transaction((fn: () => unknown) => fn());
    this.#inTransaction = (fn) => tx.immediate(fn);
    this.#walSync = !db.memory && db.pragma('synchronous', { simple: true }) === FULL ? new WalSync(`${db.name}-wal`, syncWal) : undefined;
    this.gatherTurns = this.#walSync ? 1 : undefined;
    this.#q = {
      meta: db.prepare<[string], string>(`SELECT value FROM meta WHERE key = ?`).pluck(),
      setMeta: db.prepare(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`),
      dedup: db.prepare<[string, string], string>(`SELECT event_id FROM dedup WHERE source = ? AND source_event_id = ?`).pluck(),
      // The position is taken after the last one ever assigned, not after the last one retained:
      // SQLite would start an emptied table at 1 again, behind consumer-group floors.
      insertEvent: db.prepare(`INSERT INTO events (seq, id, type, source, subject, body) VALUES ((${LAST_SEQ}) + 1, ?, ?, ?, ?, ?)`),
      insertDedup: db.prepare(`INSERT INTO dedup (source, source_event_id, event_id, received_ms) VALUES (?, ?, ?, ?)`),
      bodyById: db.prepare<[string], string>(`SELECT body FROM events WHERE id = ?`).pluck(),
      seqById: db.prepare<[string], number>(`SELECT seq FROM events WHERE id = ?`).pluck(),
      scan: db
        .prepare<[number, number], RawEventRow>(`SELECT seq, id, type, source, subject, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?`)
        .raw(true),
      lastSeq: db.prepare<[], number>(LAST_SEQ).pluck(),
      retained: db.prepare<[], number>(`SELECT COALESCE(MAX(seq) - MIN(seq) + 1, 0) FROM events`).pluck(),
      trimSeqByCount: db.prepare<[number], number>(`SELECT seq FROM events ORDER BY seq DESC LIMIT 1 OFFSET ?`).pluck(),
      trimSeqByAge: db.prepare<[string], number | null>(`SELECT MAX(seq) FROM events WHERE id < ?`).pluck(),
      idBySeq: db.prepare<[number], string>(`SELECT id FROM events WHERE seq = ?`).pluck(),
      deleteEvents: db.prepare(`DELETE FROM events WHERE seq <= ?`),
      deleteDeliveriesThrough: db.prepare(`DELETE FROM deliveries WHERE seq <= ?`),
      deleteDedup: db.prepare(`DELETE FROM dedup WHERE received_ms < ?`),
      dataVersion: db.prepare<[], number>(`PRAGMA data_version`).pluck(),
      syncOff: db.prepare(`PRAGMA synchronous = OFF`),
      syncFull: db.prepare(`PRAGMA synchronous = FULL`),
    };
  }

  transaction<T>(fn: () => T): T {
    return this.#inTransaction(fn) as T;
  }

  /**
   * With `synchronous = FULL`, the append commits with `synchronous = OFF` — its WAL frames
   * written, not flushed — and {@link WalSync} flushes the WAL on the thread pool; every other
   * write of this connection keeps `FULL`. Checkpoints (which must flush the database file
   * before the WAL is reused) run elsewhere, with `FULL` (see checkpointer.ts).
   */
  appendTransaction<T>(fn: () => T): { result: T; durable: Promise<void> | undefined } {
    const walSync = this.#walSync;
    if (walSync === undefined) return { result: this.transaction(fn), durable: undefined };
    this.#q.syncOff.run();
    try {
      return { result: this.transaction(fn), durable: walSync.afterCommit() };
    } finally {
      this.#q.syncFull.run();
    }
  }

  appendPause(): Promise<void> | undefined {
    return checkpointPause(this.#db);
  }

  head(): string | null {
    return this.#q.meta.get('head') ?? null;
  }

  /** Positions have no holes (only the oldest are ever deleted), so the rowid range is the count: two index lookups. */
  retainedCount(): number {
    return this.#q.retained.get()!;
  }

  setHead(id: string): void {
    this.#q.setMeta.run('head', id);
  }

  trimmedThrough(): string | null {
    return this.#q.meta.get('trimmed_through') ?? null;
  }

  dedupLookup(source: string, sourceEventId: string): string | undefined {
    return this.#q.dedup.get(source, sourceEventId);
  }

  insert(event: Event, receivedMs: number): void {
    this.#q.insertEvent.run(event.id, event.type, event.source, event.subject ?? null, JSON.stringify(event));
    this.#q.insertDedup.run(event.source, event.sourceEventId, event.id, receivedMs);
  }

  eventById(id: string): Event | null {
    const body = this.#q.bodyById.get(id);
    return body === undefined ? null : (JSON.parse(body) as Event);
  }

  positionOf(id: string): number | undefined {
    return this.#q.seqById.get(id);
  }

  scan(afterPos: number, count: number): ScanRow[] {
    return this.#q.scan.all(afterPos, count).map((r) => new SqliteRow(r[0], r[1], r[2], r[3], r[4] ?? undefined, r[5]));
  }

  trim(cutoffMs: number | undefined, keep: number | undefined, dedupCutoffMs: number): TrimResult {
    const byCount = keep === undefined ? undefined : this.#q.trimSeqByCount.get(keep);
    const byAge = cutoffMs === undefined ? undefined : this.#q.trimSeqByAge.get(ulidFloor(cutoffMs));
    const through = Math.max(byCount ?? 0, byAge ?? 0);
    let removed = 0;
    if (through > 0) {
      this.#q.setMeta.run('trimmed_through', this.#q.idBySeq.get(through)!);
      this.#q.setMeta.run('trimmed_seq', String(through));
      removed = this.#q.deleteEvents.run(through).changes;
      this.#q.deleteDeliveriesThrough.run(through);
    }
    const dedupKeysRemoved = this.#q.deleteDedup.run(dedupCutoffMs).changes;
    return { removed, dedupKeysRemoved };
  }

  headPos(): number {
    return this.#q.lastSeq.get()!;
  }

  idAt(pos: number): string | undefined {
    return this.#q.idBySeq.get(pos);
  }

  /** `PRAGMA data_version` changes exactly when another connection has committed. */
  watchForeignCommits(onCommit: () => void): () => void {
    let seen = this.#q.dataVersion.get();
    const timer = setInterval(() => {
      const version = this.#q.dataVersion.get();
      if (version !== seen) {
        seen = version;
        onCommit();
      }
    }, FOREIGN_COMMIT_POLL_MS);
    timer.unref();
    return () => clearInterval(timer);
  }

  close(): void {
    this.#walSync?.close();
    if (this.#ownsDb) closeSqlite(this.#db);
  }
}
