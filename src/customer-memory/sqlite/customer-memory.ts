import type Database from 'better-sqlite3';
import { closeSqlite, openTarget, type SqliteTarget } from '../../log/sqlite/connection.js';
import type { CustomerMemoryOptions, UpsertOutcome } from '../customer-memory.js';
import { applyWrite, type FactRows, type StoredFact } from '../fact-rules.js';
import { type FactStore, StoredCustomerMemory } from '../stored-customer-memory.js';

/**
 * Its own tables (prefixed `memory_`), so it can share the event log's file: one file to back
 * up, and the log's schema version is not concerned. `memory_writes` holds every accepted
 * write (idempotence and history); `memory_facts` the current value per key.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS memory_facts (
  customer_id TEXT NOT NULL,
  key         TEXT NOT NULL,
  value       TEXT NOT NULL,
  event_id    TEXT NOT NULL,
  occurred_at TEXT NOT NULL,
  occurred_ms INTEGER NOT NULL,
  stored_ms   INTEGER NOT NULL,
  PRIMARY KEY (customer_id, key)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS memory_writes (
  customer_id TEXT NOT NULL,
  key         TEXT NOT NULL,
  event_id    TEXT NOT NULL,
  value       TEXT NOT NULL,
  occurred_at TEXT NOT NULL,
  occurred_ms INTEGER NOT NULL,
  stored_ms   INTEGER NOT NULL,
  PRIMARY KEY (customer_id, key, event_id)
) WITHOUT ROWID;
`;

interface FactRow {
  key: string;
  value: string;
  event_id: string;
  occurred_at: string;
  occurred_ms: number;
  stored_ms: number;
}

const fromRow = (row: FactRow): StoredFact => ({
  value: row.value,
  eventId: row.event_id,
  occurredAt: row.occurred_at,
  occurredMs: row.occurred_ms,
  storedMs: row.stored_ms,
});

const COLUMNS = 'key, value, event_id, occurred_at, occurred_ms, stored_ms';

class SqliteFactStore implements FactStore, FactRows {
  readonly kind = 'sqlite' as const;
  readonly #db: Database.Database;
  /** Whether `close` closes the database: not when it is shared (`openBackend` closes it). */
  readonly #ownsDb: boolean;
  readonly #upsert: Database.Transaction<(customerId: string, key: string, write: StoredFact) => UpsertOutcome>;
  readonly #q;

  constructor(db: Database.Database, ownsDb: boolean) {
    this.#db = db;
    this.#ownsDb = ownsDb;
    db.exec(SCHEMA);
    this.#upsert = db.transaction((customerId: string, key: string, write: StoredFact) => applyWrite(this, customerId, key, write));
    this.#q = {
      current: db.prepare<[string, string], FactRow>(`SELECT ${COLUMNS} FROM memory_facts WHERE customer_id = ? AND key = ?`),
      setCurrent: db.prepare(
        `INSERT INTO memory_facts (customer_id, key, value, event_id, occurred_at, occurred_ms, stored_ms) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (customer_id, key) DO UPDATE SET value = excluded.value, event_id = excluded.event_id,
           occurred_at = excluded.occurred_at, occurred_ms = excluded.occurred_ms, stored_ms = excluded.stored_ms`,
      ),
      hasWrite: db
        .prepare<[string, string, string], number>(`SELECT 1 FROM memory_writes WHERE customer_id = ? AND key = ? AND event_id = ?`)
        .pluck(),
      addWrite: db.prepare(
        `INSERT INTO memory_writes (customer_id, key, event_id, value, occurred_at, occurred_ms, stored_ms) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      facts: db.prepare<[string], FactRow>(`SELECT ${COLUMNS} FROM memory_facts WHERE customer_id = ?`),
      writes: db.prepare<[string, string], FactRow>(`SELECT ${COLUMNS} FROM memory_writes WHERE customer_id = ? AND key = ?`),
    };
  }

  upsert(customerId: string, key: string, write: StoredFact): UpsertOutcome {
    // IMMEDIATE: the read of the current value and the write are one serialized step.
    return this.#upsert.immediate(customerId, key, write);
  }

  current(customerId: string, key: string): StoredFact | undefined {
    const row = this.#q.current.get(customerId, key);
    return row && fromRow(row);
  }

  setCurrent(customerId: string, key: string, f: StoredFact): void {
    this.#q.setCurrent.run(customerId, key, f.value, f.eventId, f.occurredAt, f.occurredMs, f.storedMs);
  }

  hasWrite(customerId: string, key: string, eventId: string): boolean {
    return this.#q.hasWrite.get(customerId, key, eventId) !== undefined;
  }

  addWrite(customerId: string, key: string, f: StoredFact): void {
    this.#q.addWrite.run(customerId, key, f.eventId, f.value, f.occurredAt, f.occurredMs, f.storedMs);
  }

  facts(customerId: string): Map<string, StoredFact> {
    return new Map(this.#q.facts.all(customerId).map((row) => [row.key, fromRow(row)]));
  }

  writes(customerId: string, key: string): StoredFact[] {
    return this.#q.writes.all(customerId, key).map(fromRow);
  }

  close(): void {
    if (this.#ownsDb) closeSqlite(this.#db);
  }
}

export type SqliteCustomerMemoryOptions = CustomerMemoryOptions & SqliteTarget;

/** Customer memory in a SQLite file (WAL, fsync per write), or in the event log's database: durable, single machine. */
export class SqliteCustomerMemory extends StoredCustomerMemory {
  constructor(options: SqliteCustomerMemoryOptions) {
    const { db, owned, rest } = openTarget(options);
    super(new SqliteFactStore(db, owned), rest);
  }
}
