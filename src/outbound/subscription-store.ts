/**
 * Webhook subscriptions (`events/subscribe`) as the store keeps them: what to deliver, where,
 * signed with which secrets, and how far delivery got. This documentation is the contract
 * every backend passes (`test/contract/subscription-store-contract.ts`).
 *
 * Two writers share a record. `events/subscribe` creates it or refreshes its settings
 * (`upsert`); the one instance delivering it (it holds the lease, `claim`) moves its progress
 * (`update` fenced by the lease). A refresh never writes progress fields and a delivery never
 * writes settings, except `active` (suspension clears it, a refresh sets it), so neither
 * loses the other's write.
 */

/** One signing secret (`whsec_<base64>`); a replaced one signs beside the new one until `until` (ms since the epoch). */
export interface SigningSecret {
  secret: string;
  until: number | null;
}

/** The event being delivered and the attempts it has had: what a restart continues from. */
export interface InFlight {
  eventId: string;
  attempts: number;
  /** ms since the epoch */
  firstAttemptAt: number;
  /** When the next attempt is due (ms since the epoch). */
  nextAttemptAt: number;
}

export interface WebhookSubscription {
  /** `sub_` + hex of the SHA-256 of the key: derived, never accepted as input. */
  id: string;
  /** The key: (principal, url, name, arguments) — immutable. */
  principal: string;
  url: string;
  name: string;
  /** The subscription's `arguments` as canonical JSON (sorted keys, no spaces). */
  arguments: string;
  createdAt: number;
  /** Current first; never empty. */
  secrets: SigningSecret[];
  /** ms since the epoch; `null`: no expiry. */
  expiresAt: number | null;
  /** `false` while suspended after sustained failure; a refresh sets it again. */
  active: boolean;
  /** When the endpoint passed verification (challenge or well-known document); `null`: not yet. */
  verifiedAt: number | null;
  /** Watermark: every matching event at or before it was delivered or abandoned. A log id. */
  cursor: string;
  lastDeliveryAt: number | null;
  /** A fixed category (`connection_refused`, `timeout`, `http_5xx`, …), never endpoint output. */
  lastError: string | null;
  /** Since when every attempt has failed; `null` after a success. */
  failedSince: number | null;
  /** The receiver asked to slow down (429 `Retry-After`): no attempt before this (ms since the epoch). */
  throttledUntil: number | null;
  inFlight: InFlight | null;
  /**
   * An operator asked for delivery again from this cursor (a replay): the instance delivering
   * the subscription restarts from it and clears it. Written only by the operator API.
   */
  replayFrom: string | null;
}

/** The fields a refresh or a delivery may change. */
export type SubscriptionPatch = Partial<
  Omit<WebhookSubscription, 'id' | 'principal' | 'url' | 'name' | 'arguments' | 'createdAt'>
>;

/** Every field a patch may write: the key and `createdAt` never change. */
export const PATCH_FIELDS = Object.keys({
  secrets: true,
  expiresAt: true,
  active: true,
  verifiedAt: true,
  cursor: true,
  lastDeliveryAt: true,
  lastError: true,
  failedSince: true,
  throttledUntil: true,
  inFlight: true,
  replayFrom: true,
} satisfies Record<keyof SubscriptionPatch, true>) as (keyof SubscriptionPatch)[];

export interface WebhookSubscriptionStore {
  readonly kind: 'memory' | 'sqlite' | 'redis';
  /**
   * Stores `fresh` when no subscription has its id; otherwise applies `refresh` to the stored
   * one. One atomic step: two instances subscribing the same key at once make one record.
   * Returns the record as stored afterwards.
   */
  upsert(fresh: WebhookSubscription, refresh: SubscriptionPatch): Promise<{ subscription: WebhookSubscription; created: boolean }>;
  get(id: string): Promise<WebhookSubscription | undefined>;
  /** Every stored subscription, in id order. */
  list(): Promise<WebhookSubscription[]>;
  /** How many subscriptions `principal` has (for its quota). */
  countFor(principal: string): Promise<number>;
  /**
   * Writes the given fields of a stored subscription; `false` when it does not exist (never
   * recreates a removed one) or, with `owner`, when `owner` does not hold its lease.
   */
  update(id: string, patch: SubscriptionPatch, owner?: string): Promise<boolean>;
  /** Deletes it and its lease; `false` when it did not exist. */
  remove(id: string): Promise<boolean>;
  /**
   * Takes the lease on delivering `id` for `ttlMs`, or renews it when `owner` holds it
   * already; `false` while another owner's lease runs, or when no subscription has this id
   * (a claim racing a removal leaves no lease behind). The in-process backends (memory,
   * SQLite) keep leases in memory: one process delivers everything it stores.
   */
  claim(id: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease up if `owner` holds it. */
  release(id: string, owner: string): Promise<void>;
  /** Closes what the store opened itself (not a connection it shares with the log). */
  close(): Promise<void>;
}
