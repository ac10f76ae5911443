import type Database from 'better-sqlite3';
import type { Event } from '../../events/event.js';
import { ulidFloor } from '../../events/ulid.js';
import type { DeadLetter, GroupCounts, TrimResult } from '../event-log.js';
import type { Candidate, Delivery } from '../group-store.js';
import type { LogOptions } from '../log-options.js';
import type { LogStore } from '../log-store.js';
import type { ScanRow } from '../scan.js';
import { StoredEventLog } from '../stored-event-log.js';
import { openTarget, type SqliteTarget } from './connection.js';
import { SCHEMA, SCHEMA_VERSION } from './schema.js';

export type SqliteEventLogOptions = LogOptions & SqliteTarget;

/** The event log in one SQLite file (WAL): the default, durable, single-machine backend. */
export class SqliteEventLog extends StoredEventLog {
  constructor(options: SqliteEventLogOptions) {
    const { db, owned, rest } = openTarget(options);
    super(new SqliteStore(db, owned), rest);
  }
}

interface EventRow {
  seq: number;
  id: string;
  type: string;
  source: string;
  subject: string | null;
  body: string;
}

/** `[seq, id, type, source, subject, body]`: scans read arrays, cheaper than row objects. */
type RawEventRow = [number, string, string, string, string | null, string];

interface DeliveryRow {
  state: Delivery['state'];
  count: number;
  lease_until: number;
  dead_at: number | null;
}

const FOREIGN_COMMIT_POLL_MS = 100;

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
class SqliteStore implements LogStore {
  readonly kind = 'sqlite' as const;
  readonly #db: Database.Database;
  /** Whether `close` closes the database: not when it is shared (`openBackend` closes it). */
  readonly #ownsDb: boolean;
  readonly #inTransaction: (fn: () => unknown) => unknown;
  readonly #q;

  constructor(db: Database.Database, ownsDb: boolean) {
    this.#db = db;
    this.#ownsDb = ownsDb;
    db.exec(SCHEMA);
    const version = db.prepare(`SELECT value FROM meta WHERE key = 'schema'`).pluck().get() as string | undefined;
    if (version === undefined) db.prepare(`INSERT INTO meta (key, value) VALUES ('schema', ?)`).run(SCHEMA_VERSION);
    else if (version !== SCHEMA_VERSION) {
      if (ownsDb) db.close();
      throw new Error(`${db.name} has event-log schema ${version}; this relay reads schema ${SCHEMA_VERSION}`);
    }
    const tx = db.transaction((fn: () => unknown) => fn());
    this.#inTransaction = (fn) => tx.immediate(fn);
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
      floor: db.prepare<[string], number>(`SELECT floor FROM groups WHERE name = ?`).pluck(),
      insertGroup: db.prepare(`INSERT INTO groups (name, floor) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`),
      setFloor: db.prepare(`UPDATE groups SET floor = ? WHERE name = ?`),
      forgetAcked: db.prepare(`DELETE FROM deliveries WHERE grp = ? AND seq <= ? AND state = 'acked'`),
      claimable: db.prepare<[string, number, number, number], EventRow & Partial<DeliveryRow>>(
        `SELECT e.seq, e.id, e.type, e.source, e.subject, e.body, d.state, d.count, d.lease_until, d.dead_at
           FROM events e LEFT JOIN deliveries d ON d.grp = ? AND d.seq = e.seq
          WHERE e.seq > ? AND (d.state IS NULL OR (d.state = 'leased' AND d.lease_until <= ?))
          ORDER BY e.seq LIMIT ?`,
      ),
      delivery: db.prepare<[string, number], DeliveryRow>(`SELECT state, count, lease_until, dead_at FROM deliveries WHERE grp = ? AND seq = ?`),
      putDelivery: db.prepare(
        `INSERT INTO deliveries (grp, seq, state, count, lease_until, dead_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (grp, seq) DO UPDATE SET state = excluded.state, count = excluded.count,
           lease_until = excluded.lease_until, dead_at = excluded.dead_at`,
      ),
      firstUnresolved: db.prepare<[string, number], number>(
        `SELECT e.seq FROM events e LEFT JOIN deliveries d ON d.grp = ? AND d.seq = e.seq
          WHERE e.seq > ? AND (d.state IS NULL OR d.state = 'leased') ORDER BY e.seq LIMIT 1`,
      ).pluck(),
      countAfter: db.prepare<[number], number>(`SELECT COUNT(*) FROM events WHERE seq > ?`).pluck(),
      resolvedAfter: db.prepare<[string, number], number>(`SELECT COUNT(*) FROM deliveries WHERE grp = ? AND seq > ? AND state <> 'leased'`).pluck(),
      leased: db.prepare<[string, number], number>(`SELECT COUNT(*) FROM deliveries WHERE grp = ? AND state = 'leased' AND lease_until > ?`).pluck(),
      dead: db.prepare<[string], number>(`SELECT COUNT(*) FROM deliveries WHERE grp = ? AND state = 'dead'`).pluck(),
      deadLetters: db.prepare<[string, number], { body: string; count: number; dead_at: number }>(
        `SELECT e.body, d.count, d.dead_at FROM deliveries d JOIN events e ON e.seq = d.seq
          WHERE d.grp = ? AND d.state = 'dead' ORDER BY d.seq LIMIT ?`,
      ),
      dataVersion: db.prepare<[], number>(`PRAGMA data_version`).pluck(),
    };
  }

  transaction<T>(fn: () => T): T {
    return this.#inTransaction(fn) as T;
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

  floor(group: string): number | undefined {
    return this.#q.floor.get(group);
  }

  insertGroup(group: string, floor: number): void {
    this.#q.insertGroup.run(group, floor);
  }

  headPos(): number {
    return this.#q.lastSeq.get()!;
  }

  claimable(group: string, afterPos: number, now: number, count: number): Candidate[] {
    return this.#q.claimable.all(group, afterPos, now, count).map((r) => ({
      row: new SqliteRow(r.seq, r.id, r.type, r.source, r.subject ?? undefined, r.body),
      delivery: r.state ? toDelivery(r as DeliveryRow) : undefined,
    }));
  }

  delivery(group: string, pos: number): Delivery | undefined {
    const r = this.#q.delivery.get(group, pos);
    return r ? toDelivery(r) : undefined;
  }

  putDelivery(group: string, pos: number, d: Delivery): void {
    this.#q.putDelivery.run(group, pos, d.state, d.count, d.leaseUntil, d.deadAt);
  }

  firstUnresolved(group: string, afterPos: number): number | undefined {
    return this.#q.firstUnresolved.get(group, afterPos);
  }

  setFloor(group: string, floor: number): void {
    this.#q.setFloor.run(floor, group);
    this.#q.forgetAcked.run(group, floor);
  }

  counts(group: string, now: number): GroupCounts {
    const floor = this.#q.floor.get(group) ?? 0;
    return {
      pending: this.#q.countAfter.get(floor)! - this.#q.resolvedAfter.get(group, floor)!,
      leased: this.#q.leased.get(group, now)!,
      deadLettered: this.#q.dead.get(group)!,
    };
  }

  listDeadLetters(group: string, limit: number): DeadLetter[] {
    return this.#q.deadLetters.all(group, limit).map((r) => ({
      event: JSON.parse(r.body) as Event,
      deliveryCount: r.count,
      deadLetteredAt: r.dead_at,
    }));
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
    if (this.#ownsDb) this.#db.close();
  }
}

/** A stored event as scanned: routable without decoding; the body is decoded only on demand. */
class SqliteRow implements ScanRow {
  constructor(
    readonly pos: number,
    readonly id: string,
    readonly type: string,
    readonly source: string,
    readonly subject: string | undefined,
    readonly body: string,
  ) {}

  decode(): Event {
    return JSON.parse(this.body) as Event;
  }

  json(): string {
    return this.body;
  }
}

function toDelivery(r: DeliveryRow): Delivery {
  return { state: r.state, count: r.count, leaseUntil: r.lease_until, deadAt: r.dead_at };
}
