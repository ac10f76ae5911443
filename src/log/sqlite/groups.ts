import type Database from 'better-sqlite3';
import type { Event } from '../../events/event.js';
import type { GroupCounts } from '../event-log.js';
import type { Candidate, Delivery } from '../group-store.js';
import type { ScanRow } from '../scan.js';

interface EventRow {
  seq: number;
  id: string;
  type: string;
  source: string;
  subject: string | null;
  body: string;
}

interface DeliveryRow {
  state: Delivery['state'];
  count: number;
  lease_until: number;
  dead_at: number | null;
}

/** An event with the group's delivery row, if it has one. */
type CandidateRow = EventRow & Partial<DeliveryRow>;

/**
 * The consumer-group primitives of the SQLite store (`groups` and `deliveries` tables, see
 * schema.ts), prepared once on its database; the store runs them inside its transactions.
 */
export class SqliteGroupRows {
  readonly #q;

  constructor(db: Database.Database) {
    this.#q = {
      floor: db.prepare<[string], number>(`SELECT floor FROM groups WHERE name = ?`).pluck(),
      insertGroup: db.prepare(`INSERT INTO groups (name, floor) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`),
      groupNames: db.prepare<[], string>(`SELECT name FROM groups`).pluck(),
      setFloor: db.prepare(`UPDATE groups SET floor = ? WHERE name = ?`),
      deleteGroup: db.prepare(`DELETE FROM groups WHERE name = ?`),
      forgetAcked: db.prepare(`DELETE FROM deliveries WHERE grp = ? AND seq <= ? AND state = 'acked'`),
      forgetAllBut: db.prepare(`DELETE FROM deliveries WHERE grp = ? AND (seq > ? OR state <> 'dead')`),
      forgetGroup: db.prepare(`DELETE FROM deliveries WHERE grp = ?`),
      claimable: db.prepare<[string, number, number, number], CandidateRow>(
        `SELECT e.seq, e.id, e.type, e.source, e.subject, e.body, d.state, d.count, d.lease_until, d.dead_at
           FROM events e LEFT JOIN deliveries d ON d.grp = ? AND d.seq = e.seq
          WHERE e.seq > ? AND (d.state IS NULL OR (d.state = 'leased' AND d.lease_until <= ?))
          ORDER BY e.seq LIMIT ?`,
      ),
      reopened: db.prepare<[string, number, number, number, number], CandidateRow>(
        `SELECT e.seq, e.id, e.type, e.source, e.subject, e.body, d.state, d.count, d.lease_until, d.dead_at
           FROM deliveries d INDEXED BY deliveries_open JOIN events e ON e.seq = d.seq
          WHERE d.grp = ? AND d.state = 'leased' AND d.seq > ? AND d.seq <= ? AND d.lease_until <= ?
          ORDER BY d.seq LIMIT ?`,
      ),
      deadLetters: db.prepare<[string, number, number], CandidateRow>(
        `SELECT e.seq, e.id, e.type, e.source, e.subject, e.body, d.state, d.count, d.lease_until, d.dead_at
           FROM deliveries d JOIN events e ON e.seq = d.seq
          WHERE d.grp = ? AND d.state = 'dead' AND d.seq > ? ORDER BY d.seq LIMIT ?`,
      ),
      delivery: db.prepare<[string, number], DeliveryRow>(`SELECT state, count, lease_until, dead_at FROM deliveries WHERE grp = ? AND seq = ?`),
      putDelivery: db.prepare(
        `INSERT INTO deliveries (grp, seq, state, count, lease_until, dead_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (grp, seq) DO UPDATE SET state = excluded.state, count = excluded.count,
           lease_until = excluded.lease_until, dead_at = excluded.dead_at`,
      ),
      deleteDelivery: db.prepare(`DELETE FROM deliveries WHERE grp = ? AND seq = ?`),
      firstUnresolved: db.prepare<[string, number], number>(
        `SELECT e.seq FROM events e LEFT JOIN deliveries d ON d.grp = ? AND d.seq = e.seq
          WHERE e.seq > ? AND (d.state IS NULL OR d.state = 'leased') ORDER BY e.seq LIMIT 1`,
      ).pluck(),
      countAfter: db.prepare<[number], number>(`SELECT COUNT(*) FROM events WHERE seq > ?`).pluck(),
      resolvedAfter: db.prepare<[string, number], number>(`SELECT COUNT(*) FROM deliveries WHERE grp = ? AND seq > ? AND state <> 'leased'`).pluck(),
      openThrough: db.prepare<[string, number], number>(`SELECT COUNT(*) FROM deliveries INDEXED BY deliveries_open WHERE grp = ? AND state = 'leased' AND seq <= ?`).pluck(),
      leased: db.prepare<[string, number], number>(`SELECT COUNT(*) FROM deliveries WHERE grp = ? AND state = 'leased' AND lease_until > ?`).pluck(),
      dead: db.prepare<[string], number>(`SELECT COUNT(*) FROM deliveries WHERE grp = ? AND state = 'dead'`).pluck(),
    };
  }

  floor(group: string): number | undefined {
    return this.#q.floor.get(group);
  }

  insertGroup(group: string, floor: number): void {
    this.#q.insertGroup.run(group, floor);
  }

  groupNames(): string[] {
    return this.#q.groupNames.all();
  }

  resetGroup(group: string, floor: number): void {
    this.#q.insertGroup.run(group, floor);
    this.#q.setFloor.run(floor, group);
    this.#q.forgetAllBut.run(group, floor);
  }

  deleteGroup(group: string): boolean {
    this.#q.forgetGroup.run(group);
    return this.#q.deleteGroup.run(group).changes > 0;
  }

  claimable(group: string, afterPos: number, now: number, count: number): Candidate[] {
    return this.#q.claimable.all(group, afterPos, now, count).map(toCandidate);
  }

  reopened(group: string, afterPos: number, throughPos: number, now: number, count: number): Candidate[] {
    return this.#q.reopened.all(group, afterPos, throughPos, now, count).map(toCandidate);
  }

  deadLetters(group: string, afterPos: number, count: number): Candidate[] {
    return this.#q.deadLetters.all(group, afterPos, count).map(toCandidate);
  }

  delivery(group: string, pos: number): Delivery | undefined {
    const r = this.#q.delivery.get(group, pos);
    return r ? toDelivery(r) : undefined;
  }

  putDelivery(group: string, pos: number, d: Delivery): void {
    this.#q.putDelivery.run(group, pos, d.state, d.count, d.leaseUntil, d.deadAt);
  }

  deleteDelivery(group: string, pos: number): void {
    this.#q.deleteDelivery.run(group, pos);
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
      pending: this.#q.countAfter.get(floor)! - this.#q.resolvedAfter.get(group, floor)! + this.#q.openThrough.get(group, floor)!,
      leased: this.#q.leased.get(group, now)!,
      deadLettered: this.#q.dead.get(group)!,
    };
  }
}

/** A stored event as scanned: routable without decoding; the body is decoded only on demand. */
export class SqliteRow implements ScanRow {
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

function toCandidate(r: CandidateRow): Candidate {
  return { row: new SqliteRow(r.seq, r.id, r.type, r.source, r.subject ?? undefined, r.body), delivery: r.state ? toDelivery(r as DeliveryRow) : undefined };
}

function toDelivery(r: DeliveryRow): Delivery {
  return { state: r.state, count: r.count, leaseUntil: r.lease_until, deadAt: r.dead_at };
}
