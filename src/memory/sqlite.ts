import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { FactStore, StoredFact } from './fact-store.js';
import { StoredCustomerMemory, type CustomerMemoryOptions } from './stored-customer-memory.js';

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

class SqliteFactStore implements FactStore {
  readonly kind = 'sqlite' as const;
  readonly #db: Database.Database;
  readonly #tx: (fn: () => unknown) => unknown;
  readonly #q;

  constructor(path: string, synchronous: 'full' | 'normal', busyTimeoutMs: number) {
    mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    this.#db = db;
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous === 'normal' ? 'normal' : 'full'}`);
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    db.exec(SCHEMA);
    const tx = db.transaction((fn: () => unknown) => fn());
    // IMMEDIATE: the read of the current value and the write are one serialized step.
    this.#tx = (fn) => tx.immediate(fn);
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

  transaction<T>(fn: () => T): T {
    return this.#tx(fn) as T;
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
    if (this.#db.open) this.#db.close();
  }
}

export interface SqliteCustomerMemoryOptions extends CustomerMemoryOptions {
  /** The database file (may be the event log's); created, with its folder, on first open. */
  path: string;
  /** `full` (default): fsync per write. `normal`: survives kill -9, not power loss. */
  synchronous?: 'full' | 'normal';
  /** How long a write waits for another connection's write lock (default 5 s). */
  busyTimeoutMs?: number;
}

/** Customer memory in a SQLite file (WAL, fsync per write): durable, single machine. */
export class SqliteCustomerMemory extends StoredCustomerMemory {
  constructor({ path, synchronous = 'full', busyTimeoutMs = 5000, ...options }: SqliteCustomerMemoryOptions) {
    super(new SqliteFactStore(path, synchronous, busyTimeoutMs), options);
  }
}
