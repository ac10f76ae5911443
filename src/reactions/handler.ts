import type { Event } from '../events/event.js';
import type { CustomerMemory } from '../customer-memory/customer-memory.js';

/** Optional details of a derived event. */
export interface EmitOptions {
  /** Tells apart several events of one type emitted by one handler run (default: none). */
  key?: string;
  /** Default: the cause's. */
  customerId?: string;
  /** Default: the cause's. */
  subject?: string;
}

/** What a handler gets besides the event. */
export interface ReactionContext {
  memory: CustomerMemory;
  /**
   * Appends a derived event to the log: source `relay`, `data.causeId` = the cause's id,
   * `sourceEventId` = `<causeId>:<handler>[:<key>]`. Deterministic, so a rerun of the handler
   * (redelivery, replay) never appends twice: the log deduplicates it.
   */
  emit(type: string, data: Record<string, unknown>, options?: EmitOptions): Promise<void>;
  /** The relay's public base URL, without a trailing slash (`RELAY_PUBLIC_URL`). */
  publicUrl: string;
  /** 1 on the first run for this event, 2 on the first retry, … */
  deliveryCount: number;
}

/**
 * A reaction: runs once per matching event, at least once. It must be idempotent by event
 * id — write memory through `ctx.memory` (a replay is a no-op) and derived events through
 * `ctx.emit` (deduplicated). Throwing fails the run: the event is retried when the
 * reactions' lease ends, and dead-lettered after the log's `maxDeliveries`.
 */
export interface ReactionHandler {
  /** Unique; lowercase letters, digits, ".", "_", "-", "/" (e.g. `acme/refund-notes`). */
  name: string;
  /** Event types, exact or globs (`refund.*`), as in an `EventFilter`. */
  on: string | string[];
  /** Returning `'skipped'` records that the event did not concern it (e.g. no customer). */
  handle(event: Event, ctx: ReactionContext): Promise<void | 'skipped'> | void | 'skipped';
}

const NAME = /^[a-z0-9][a-z0-9._/-]{0,63}$/;

/** Checks handlers from wherever they came (a user module is untyped at run time). */
export function checkHandlers(handlers: readonly unknown[], where: string): ReactionHandler[] {
  const names = new Set<string>();
  return handlers.map((candidate, i) => {
    const h = candidate as Partial<ReactionHandler> | null;
    const label = `${where}: handler #${i + 1}`;
    if (typeof h !== 'object' || h === null) throw new Error(`${label} is not an object`);
    if (typeof h.name !== 'string' || !NAME.test(h.name)) throw new Error(`${label} needs a name of lowercase letters, digits, ".", "_", "-" or "/"`);
    const on = typeof h.on === 'string' ? [h.on] : h.on;
    if (!Array.isArray(on) || on.length === 0 || !on.every((p) => typeof p === 'string' && p.length > 0)) {
      throw new Error(`${label} (${h.name}) needs "on": an event type or glob, or a list of them`);
    }
    if (typeof h.handle !== 'function') throw new Error(`${label} (${h.name}) needs a handle(event, ctx) function`);
    if (names.has(h.name)) throw new Error(`${where}: two handlers are named "${h.name}"`);
    names.add(h.name);
    return h as ReactionHandler;
  });
}
