import type { Event } from '../events/event.js';
import type { EventFilter } from '../events/filter.js';

/**
 * The consumer-group half of the `EventLog` contract's types (`event-log.ts`
 * re-exports them): what claims, settles and an operator's calls take and return.
 */

export interface ClaimOptions {
  /** At most this many events (1–100; default 10). */
  limit?: number;
  /** Lease length (1 s – 1 h; default the log's `leaseMs`). */
  leaseMs?: number;
  /** Only lease matching events; the others stay pending for other claimers. */
  filter?: EventFilter;
}

export interface ClaimedEvent extends Event {
  /** 1 on first delivery to the group, 2 on the first redelivery, …; from 1 again once the event is made pending again (requeued, replayed, sought). */
  deliveryCount: number;
  /** When the lease ends (ms since epoch) and the event becomes claimable again. */
  leaseExpiresAt: number;
}

/**
 * One event to acknowledge or release: its id, or its id with the `deliveryCount` the claim
 * returned (a *fenced* settle). The count is the lease's token: it is accepted only while it
 * is still the event's latest delivery to the group — also after the lease ended, as long
 * as nobody claimed the event again. A bare id is *unfenced*: it settles whichever delivery
 * is current, so a holder whose lease ended can settle an event someone else now holds.
 */
export type DeliveryRef = string | { id: string; deliveryCount: number };

export interface GroupCounts {
  /** Not yet acked or dead-lettered, leased or not, made pending again ones included. */
  pending: number;
  /** Pending and currently under a lease. */
  leased: number;
  deadLettered: number;
}

export interface DeadLetter {
  event: Event;
  deliveryCount: number;
  /** When it was dead-lettered (ms since epoch). */
  deadLetteredAt: number;
  /** Why, as a fixed phrase without payload: `lease expired after 5 deliveries`. */
  lastError: string;
}

/** Where a consumer group stands (`EventLog.groupState`). */
export interface GroupState extends GroupCounts {
  /**
   * Every event at or below this position is resolved for the group, except the ones made
   * pending again (requeued or replayed): an event id, the last id trimmed, or `LOG_START`.
   * Always a position `EventLog.seekGroup` accepts.
   */
  floor: string;
  /** The event the group's next claim would lease first (a requeued one too), or null when none is claimable now. */
  oldestPending: string | null;
}

/**
 * What one group holds about one event (`EventLog.deliveriesOf`): `pending` (its next
 * claims may lease it: never delivered, requeued, released or lease expired), `leased` (under
 * a lease now), `acked`, or `dead` (dead-lettered).
 */
export interface EventDelivery {
  group: string;
  state: 'pending' | 'leased' | 'acked' | 'dead';
  /**
   * Deliveries to the group since the event was last made pending (0: none since); null for
   * an event the group resolved and no longer keeps a record of (at or below its floor).
   */
  deliveryCount: number | null;
  /** When the lease ends (ms since epoch), for a `leased` event; else null. */
  leaseExpiresAt: number | null;
  /** When it was dead-lettered (ms since epoch), for a `dead` event; else null. */
  deadLetteredAt: number | null;
}

/**
 * Which dead letters an operation takes: those named by `ids`, or every one matching
 * `filter` (none: every one) — not both — in log order, at most `limit` (1–1000; default
 * 1000). Named ids the group holds no dead letter for are left out of the result.
 */
export interface DeadLetterSelection {
  ids?: string[];
  filter?: EventFilter;
  limit?: number;
}

export interface CreateGroupOptions {
  /** `start` (default): every retained event; `now`: only events appended from now on. */
  from?: 'start' | 'now';
}
