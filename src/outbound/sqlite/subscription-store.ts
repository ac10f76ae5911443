import type Database from 'better-sqlite3';
import { closeSqlite, openTarget, type SqliteTarget } from '../../log/sqlite/connection.js';
import type { SubscriptionPatch, WebhookSubscription, WebhookSubscriptionStore } from '../subscription-store.js';

/**
 * Its own table (prefixed `webhook_`), so it can share the event log's file: one file to back
 * up, and the log's schema version is not concerned. Times are ms since the epoch; `secrets`
 * and `in_flight` are JSON.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS webhook_subscriptions (
  id               TEXT PRIMARY KEY,
  principal        TEXT NOT NULL,
  url              TEXT NOT NULL,
  name             TEXT NOT NULL,
  arguments        TEXT NOT NULL,
  created_at       INTEGER NOT NULL,
  secrets          TEXT NOT NULL,
  expires_at       INTEGER,
  active           INTEGER NOT NULL,
  verified_at      INTEGER,
  cursor           TEXT NOT NULL,
  last_delivery_at INTEGER,
  last_error       TEXT,
  failed_since     INTEGER,
  throttled_until  INTEGER,
  in_flight        TEXT,
  replay_from      TEXT
) WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS webhook_subscriptions_principal ON webhook_subscriptions (principal);
`;

interface Row {
  id: string;
  principal: string;
  url: string;
  name: string;
  arguments: string;
  created_at: number;
  secrets: string;
  expires_at: number | null;
  active: number;
  verified_at: number | null;
  cursor: string;
  last_delivery_at: number | null;
  last_error: string | null;
  failed_since: number | null;
  throttled_until: number | null;
  in_flight: string | null;
  replay_from: string | null;
}

/** The column of every field a patch may write: the key and `createdAt` never change. */
const PATCH_COLUMNS = {
  secrets: 'secrets',
  expiresAt: 'expires_at',
  active: 'active',
  verifiedAt: 'verified_at',
  cursor: 'cursor',
  lastDeliveryAt: 'last_delivery_at',
  lastError: 'last_error',
  failedSince: 'failed_since',
  throttledUntil: 'throttled_until',
  inFlight: 'in_flight',
  replayFrom: 'replay_from',
} as const satisfies Record<keyof SubscriptionPatch, keyof Row>;

const COLUMNS = `id, principal, url, name, arguments, created_at, secrets, expires_at, active, verified_at, cursor,
  last_delivery_at, last_error, failed_since, throttled_until, in_flight, replay_from`;

/** A field's value as its column holds it. */
function columnValue(field: keyof SubscriptionPatch, value: unknown): unknown {
  if (field === 'secrets' || field === 'inFlight') return value === null ? null : JSON.stringify(value);
  if (field === 'active') return value ? 1 : 0;
  return value;
}

const toRow = (s: WebhookSubscription): Row => ({
  id: s.id,
  principal: s.principal,
  url: s.url,
  name: s.name,
  arguments: s.arguments,
  created_at: s.createdAt,
  secrets: JSON.stringify(s.secrets),
  expires_at: s.expiresAt,
  active: s.active ? 1 : 0,
  verified_at: s.verifiedAt,
  cursor: s.cursor,
  last_delivery_at: s.lastDeliveryAt,
  last_error: s.lastError,
  failed_since: s.failedSince,
  throttled_until: s.throttledUntil,
  in_flight: s.inFlight === null ? null : JSON.stringify(s.inFlight),
  replay_from: s.replayFrom,
});

const fromRow = (row: Row): WebhookSubscription => ({
  id: row.id,
  principal: row.principal,
  url: row.url,
  name: row.name,
  arguments: row.arguments,
  createdAt: row.created_at,
  secrets: JSON.parse(row.secrets) as WebhookSubscription['secrets'],
  expiresAt: row.expires_at,
  active: row.active === 1,
  verifiedAt: row.verified_at,
  cursor: row.cursor,
  lastDeliveryAt: row.last_delivery_at,
  lastError: row.last_error,
  failedSince: row.failed_since,
  throttledUntil: row.throttled_until,
  inFlight: row.in_flight === null ? null : (JSON.parse(row.in_flight) as WebhookSubscription['inFlight']),
  replayFrom: row.replay_from,
});

type Upserted = Awaited<ReturnType<WebhookSubscriptionStore['upsert']>>;

interface Lease {
  owner: string;
  /** `performance.now()` at which it lapses: a wall-clock step neither shortens nor extends it. */
  until: number;
}

/** A SQLite file of its own, or the event log's database (`openBackend`), which its opener closes. */
export type SqliteSubscriptionStoreOptions = SqliteTarget;

/**
 * Webhook subscriptions in a SQLite file (WAL), or in the event log's database: durable,
 * single machine. Each write is one statement, or one `BEGIN IMMEDIATE` transaction (the
 * upsert), so connections sharing the file make one record per id. Leases live in this
 * object's memory: the process that opened it delivers what it stores.
 */
export class SqliteSubscriptionStore implements WebhookSubscriptionStore {
  readonly kind = 'sqlite' as const;
  readonly #db: Database.Database;
  /** Whether `close` closes the database: not when it is shared (`openBackend` closes it). */
  readonly #ownsDb: boolean;
  readonly #leases = new Map<string, Lease>();
  /** `UPDATE` statements by the columns they set. */
  readonly #updates = new Map<string, Database.Statement>();
  readonly #upsert: Database.Transaction<(fresh: WebhookSubscription, refresh: SubscriptionPatch) => Upserted>;
  readonly #q;

  constructor(options: SqliteSubscriptionStoreOptions) {
    const { db, owned } = openTarget(options);
    this.#db = db;
    this.#ownsDb = owned;
    try {
      db.exec(SCHEMA);
    } catch (error) {
      if (owned) closeSqlite(db);
      throw error;
    }
    this.#q = {
      insert: db.prepare<[Row]>(
        `INSERT INTO webhook_subscriptions (${COLUMNS}) VALUES (@id, @principal, @url, @name, @arguments, @created_at, @secrets,
           @expires_at, @active, @verified_at, @cursor, @last_delivery_at, @last_error, @failed_since, @throttled_until, @in_flight, @replay_from)
         ON CONFLICT (id) DO NOTHING`,
      ),
      get: db.prepare<[string], Row>(`SELECT ${COLUMNS} FROM webhook_subscriptions WHERE id = ?`),
      exists: db.prepare<[string], number>(`SELECT 1 FROM webhook_subscriptions WHERE id = ?`).pluck(),
      list: db.prepare<[], Row>(`SELECT ${COLUMNS} FROM webhook_subscriptions ORDER BY id`),
      countFor: db.prepare<[string], number>(`SELECT COUNT(*) FROM webhook_subscriptions WHERE principal = ?`).pluck(),
      remove: db.prepare<[string]>(`DELETE FROM webhook_subscriptions WHERE id = ?`),
    };
    this.#upsert = db.transaction((fresh: WebhookSubscription, refresh: SubscriptionPatch) => {
      const created = this.#q.insert.run(toRow(fresh)).changes === 1;
      if (!created) this.#write(fresh.id, refresh);
      return { subscription: fromRow(this.#q.get.get(fresh.id)!), created };
    });
  }

  async upsert(fresh: WebhookSubscription, refresh: SubscriptionPatch): Promise<Upserted> {
    // IMMEDIATE: the insert attempt and the refresh are one serialized step across connections.
    return this.#upsert.immediate(fresh, refresh);
  }

  async get(id: string): Promise<WebhookSubscription | undefined> {
    const row = this.#q.get.get(id);
    return row && fromRow(row);
  }

  async list(): Promise<WebhookSubscription[]> {
    return this.#q.list.all().map(fromRow);
  }

  async countFor(principal: string): Promise<number> {
    return this.#q.countFor.get(principal)!;
  }

  async update(id: string, patch: SubscriptionPatch, owner?: string): Promise<boolean> {
    if (owner !== undefined && !this.#holds(id, owner)) return false;
    return this.#write(id, patch);
  }

  async remove(id: string): Promise<boolean> {
    this.#leases.delete(id);
    return this.#q.remove.run(id).changes === 1;
  }

  async claim(id: string, owner: string, ttlMs: number): Promise<boolean> {
    if (this.#q.exists.get(id) === undefined) return false;
    const lease = this.#leases.get(id);
    if (lease && lease.owner !== owner && lease.until > performance.now()) return false;
    this.#leases.set(id, { owner, until: performance.now() + ttlMs });
    return true;
  }

  async release(id: string, owner: string): Promise<void> {
    if (this.#leases.get(id)?.owner === owner) this.#leases.delete(id);
  }

  async close(): Promise<void> {
    if (this.#ownsDb) closeSqlite(this.#db);
  }

  #holds(id: string, owner: string): boolean {
    const lease = this.#leases.get(id);
    return lease !== undefined && lease.owner === owner && lease.until > performance.now();
  }

  /** One `UPDATE` of the patch's set fields (`null` included); `false` when no row has `id`. */
  #write(id: string, patch: SubscriptionPatch): boolean {
    const fields = (Object.keys(PATCH_COLUMNS) as (keyof SubscriptionPatch)[]).filter((field) => patch[field] !== undefined);
    if (fields.length === 0) return this.#q.exists.get(id) !== undefined;
    const columns = fields.map((field) => PATCH_COLUMNS[field]);
    const key = columns.join(',');
    let statement = this.#updates.get(key);
    if (!statement) {
      statement = this.#db.prepare(`UPDATE webhook_subscriptions SET ${columns.map((c) => `${c} = ?`).join(', ')} WHERE id = ?`);
      this.#updates.set(key, statement);
    }
    return statement.run(...fields.map((field) => columnValue(field, patch[field])), id).changes === 1;
  }
}
