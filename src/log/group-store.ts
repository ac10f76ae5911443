import type { DeadLetter, GroupCounts } from './event-log.js';
import type { ScanRow } from './scan.js';

/** A group's record of one event it has been given. */
export interface Delivery {
  state: 'leased' | 'acked' | 'dead';
  /** How many times the event has been leased to the group. */
  count: number;
  /** Lease end (ms since epoch); 0 after a release. */
  leaseUntil: number;
  deadAt: number | null;
}

export interface Candidate {
  row: ScanRow;
  delivery: Delivery | undefined;
}

/**
 * The primitives a backend gives the consumer-group rules (`consumer-groups.ts`), which
 * call them inside one of the backend's transactions. A group keeps a *floor*: every event
 * at or below it is resolved (acked or dead-lettered), so per-event state is only held
 * for the window between the floor and the newest delivery.
 */
export interface GroupStore {
  floor(group: string): number | undefined;
  /** Creates the group at `floor` unless it exists. */
  insertGroup(group: string, floor: number): void;
  /** Position of the newest event, 0 for an empty log. */
  headPos(): number;
  positionOf(id: string): number | undefined;
  /** Events after `afterPos` with no delivery or a lease ended by `now`, in log order. */
  claimable(group: string, afterPos: number, now: number, count: number): Candidate[];
  delivery(group: string, pos: number): Delivery | undefined;
  putDelivery(group: string, pos: number, delivery: Delivery): void;
  /** Position of the first event after `afterPos` that is neither acked nor dead. */
  firstUnresolved(group: string, afterPos: number): number | undefined;
  /** Moves the floor and forgets acked deliveries at or below it. */
  setFloor(group: string, floor: number): void;
  counts(group: string, now: number): GroupCounts;
  listDeadLetters(group: string, limit: number): DeadLetter[];
}
