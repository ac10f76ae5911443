import { PATCH_FIELDS, type SubscriptionPatch, type WebhookSubscription, type WebhookSubscriptionStore } from '../subscription-store.js';


interface Lease {
  owner: string;
  /** `performance.now()` at which it lapses: a wall-clock step neither shortens nor extends it. */
  until: number;
}

/**
 * Webhook subscriptions in process memory: the whole contract without durability. Every
 * method runs synchronously to its end, so each is one atomic step. Records go in and come
 * out as copies: a caller changing an object it passed or got changes nothing stored.
 */
export class MemorySubscriptionStore implements WebhookSubscriptionStore {
  readonly kind = 'memory' as const;
  readonly #subscriptions = new Map<string, WebhookSubscription>();
  readonly #leases = new Map<string, Lease>();

  async upsert(fresh: WebhookSubscription, refresh: SubscriptionPatch): Promise<{ subscription: WebhookSubscription; created: boolean }> {
    const stored = this.#subscriptions.get(fresh.id);
    if (stored) {
      applyPatch(stored, refresh);
      return { subscription: structuredClone(stored), created: false };
    }
    this.#subscriptions.set(fresh.id, structuredClone(fresh));
    return { subscription: structuredClone(fresh), created: true };
  }

  async get(id: string): Promise<WebhookSubscription | undefined> {
    const stored = this.#subscriptions.get(id);
    return stored && structuredClone(stored);
  }

  async list(): Promise<WebhookSubscription[]> {
    const ids = [...this.#subscriptions.keys()].sort(byBytes);
    return ids.map((id) => structuredClone(this.#subscriptions.get(id)!));
  }

  async countFor(principal: string): Promise<number> {
    let count = 0;
    for (const subscription of this.#subscriptions.values()) if (subscription.principal === principal) count++;
    return count;
  }

  async update(id: string, patch: SubscriptionPatch, owner?: string): Promise<boolean> {
    const stored = this.#subscriptions.get(id);
    if (!stored || (owner !== undefined && !this.#holds(id, owner))) return false;
    applyPatch(stored, patch);
    return true;
  }

  async remove(id: string): Promise<boolean> {
    this.#leases.delete(id);
    return this.#subscriptions.delete(id);
  }

  async claim(id: string, owner: string, ttlMs: number): Promise<boolean> {
    if (!this.#subscriptions.has(id)) return false;
    const lease = this.#leases.get(id);
    if (lease && lease.owner !== owner && lease.until > performance.now()) return false;
    this.#leases.set(id, { owner, until: performance.now() + ttlMs });
    return true;
  }

  async release(id: string, owner: string): Promise<void> {
    if (this.#leases.get(id)?.owner === owner) this.#leases.delete(id);
  }

  async close(): Promise<void> {}

  #holds(id: string, owner: string): boolean {
    const lease = this.#leases.get(id);
    return lease !== undefined && lease.owner === owner && lease.until > performance.now();
  }
}

/** Writes the patch's fields that are set (`null` included) onto `stored`, as copies. */
function applyPatch(stored: WebhookSubscription, patch: SubscriptionPatch): void {
  for (const field of PATCH_FIELDS) {
    if (patch[field] !== undefined) Object.assign(stored, { [field]: structuredClone(patch[field]) });
  }
}

/** By UTF-8 bytes, as SQLite orders TEXT and Redis orders members. */
function byBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
