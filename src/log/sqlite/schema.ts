/**
 * The SQLite layout. `seq` (the rowid) is the physical order and equals id order, because
 * ids are minted under the write lock in the same transaction that takes the next position.
 * Positions are never reused: the insert takes the one after the last ever assigned
 * (`trimmed_seq` in `meta` once retention emptied the table), so group floors stay valid.
 * Dedup keys live apart from events so retention can drop events and keep keys for the
 * dedup window. A group's per-event rows exist between its floor and its newest delivery,
 * for its dead letters, and for events made pending again at or below the floor (see
 * group-store.ts): those are open (`leased`) rows, which the queries that look below the floor
 * read through `deliveries_open` (named: the planner would walk the dead letters there).
 */
export const SCHEMA_VERSION = '1';

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS events (
  seq     INTEGER PRIMARY KEY,
  id      TEXT NOT NULL UNIQUE,
  type    TEXT NOT NULL,
  source  TEXT NOT NULL,
  subject TEXT,
  body    TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS dedup (
  source          TEXT NOT NULL,
  source_event_id TEXT NOT NULL,
  event_id        TEXT NOT NULL,
  received_ms     INTEGER NOT NULL,
  PRIMARY KEY (source, source_event_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS dedup_by_age ON dedup (received_ms);

CREATE TABLE IF NOT EXISTS groups (
  name  TEXT PRIMARY KEY,
  floor INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS deliveries (
  grp         TEXT NOT NULL,
  seq         INTEGER NOT NULL,
  state       TEXT NOT NULL CHECK (state IN ('leased', 'acked', 'dead')),
  count       INTEGER NOT NULL,
  lease_until INTEGER NOT NULL,
  dead_at     INTEGER,
  PRIMARY KEY (grp, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS deliveries_open ON deliveries (grp, seq) WHERE state = 'leased';
`;
