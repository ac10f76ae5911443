import Database from 'better-sqlite3';
import type { NewEvent } from '../src/events/event.js';

/**
 * The baseline the log is measured against: better-sqlite3 with nothing of ours on top.
 * Same tables as src/log/sqlite/schema.ts (events, dedup and its age index), same pragmas
 * (WAL, the given `synchronous`), the same serialized event as `body`. The DDL is written
 * out here on purpose, so a schema change in src/ shows up as a ratio change, not as a
 * silently moved baseline.
 */
const DDL = `
CREATE TABLE events (
  seq     INTEGER PRIMARY KEY,
  id      TEXT NOT NULL UNIQUE,
  type    TEXT NOT NULL,
  source  TEXT NOT NULL,
  subject TEXT,
  body    TEXT NOT NULL
);
CREATE TABLE dedup (
  source          TEXT NOT NULL,
  source_event_id TEXT NOT NULL,
  event_id        TEXT NOT NULL,
  received_ms     INTEGER NOT NULL,
  PRIMARY KEY (source, source_event_id)
) WITHOUT ROWID;
CREATE INDEX dedup_by_age ON dedup (received_ms);
`;

interface Row {
  seq: number;
  id: string;
  type: string;
  source: string;
  subject: string | null;
  body: string;
}

export class BareSqlite {
  readonly #db: Database.Database;
  readonly #insertEvent: Database.Statement;
  readonly #insertDedup: Database.Statement;
  readonly #page: Database.Statement<[number, number], Row>;
  readonly #commit: (events: NewEvent[]) => void;
  #next = 0;

  constructor(path: string, synchronous: 'full' | 'normal') {
    const db = new Database(path);
    this.#db = db;
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous}`);
    db.exec(DDL);
    this.#insertEvent = db.prepare('INSERT INTO events (id, type, source, subject, body) VALUES (?, ?, ?, ?, ?)');
    this.#insertDedup = db.prepare('INSERT INTO dedup (source, source_event_id, event_id, received_ms) VALUES (?, ?, ?, ?)');
    this.#page = db.prepare<[number, number], Row>('SELECT seq, id, type, source, subject, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?');
    const tx = db.transaction((events: NewEvent[]) => {
      for (const e of events) this.#insert(e);
    });
    this.#commit = (events) => tx.immediate(events);
  }

  /** One transaction (one fsync with `synchronous = full`) for these events. */
  insert(events: NewEvent[]): void {
    this.#commit(events);
  }

  #insert(input: NewEvent): void {
    const now = Date.now();
    const at = new Date(now).toISOString();
    // A fixed-width, increasing 26-character id: the same index shape as a ULID, none of the minting.
    const id = String(++this.#next).padStart(26, '0');
    const body = JSON.stringify({ id, ...input, occurredAt: at, receivedAt: at });
    this.#insertEvent.run(id, input.type, input.source, input.subject ?? null, body);
    this.#insertDedup.run(input.source, input.sourceEventId, id, now);
  }

  /** Reads every row from the start by pages, parsing each body unless told not to; returns the rows read. */
  replay(pageSize: number, parse = true): number {
    let after = 0;
    let read = 0;
    for (;;) {
      const rows = this.#page.all(after, pageSize);
      if (parse) for (const row of rows) JSON.parse(row.body);
      read += rows.length;
      if (rows.length < pageSize) return read;
      after = rows[rows.length - 1]!.seq;
    }
  }

  close(): void {
    this.#db.close();
  }
}
