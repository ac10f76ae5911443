import type { GroupCounts } from './event-log.js';
import type { LogReader } from './read.js';
import type { ScanRow } from './scan.js';

/** A group's record of one event it has been given. */
export interface Delivery {
  /**
   * `leased` is an open delivery: leased until `leaseUntil`, claimable again once that has
   * passed (0 after a release, or when the event was made pending again). `acked` and `dead`
   * are resolved.
   */
  state: 'leased' | 'acked' | 'dead';
  /** How many times the event has been leased to the group since it was last made pending; 0: not since. */
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
 * The primitives a backend gives the consumer-group rules (`consumer-groups.ts`,
 * `group-operations.ts`), which call them inside one of the backend's transactions. A group
 * keeps a *floor*: every event at or below it is resolved (acked or dead-lettered), except
 * those an operator made pending again, which keep an open delivery row there; so per-event
 * state is held for the window between the floor and the newest delivery, the dead letters,
 * and those requeued events.
 */
export interface GroupStore extends Pick<LogReader, 'head' | 'trimmedThrough'> {
  floor(group: string): number | undefined;
  /** Creates the group at `floor` unless it exists. */
  insertGroup(group: string, floor: number): void;
  /** Every group's name, in no particular order. */
  groupNames(): string[];
  /** Puts the group (created if needed) at `floor` and forgets every delivery but the dead ones at or below it. */
  resetGroup(group: string, floor: number): void;
  /** Forgets the group and every delivery of it; false when it did not exist. */
  deleteGroup(group: string): boolean;
  /** Position of the newest event, 0 for an empty log. */
  headPos(): number;
  positionOf(id: string): number | undefined;
  /** The id of the retained event at `pos`. */
  idAt(pos: number): string | undefined;
  /** Events after `afterPos` with no delivery or a lease ended by `now`, in log order. */
  claimable(group: string, afterPos: number, now: number, count: number): Candidate[];
  /** Open deliveries in (`afterPos`, `throughPos`] whose lease ended by `now`, in log order: the requeued events below the floor. */
  reopened(group: string, afterPos: number, throughPos: number, now: number, count: number): Candidate[];
  /** Dead deliveries after `afterPos`, in log order. */
  deadLetters(group: string, afterPos: number, count: number): Candidate[];
  delivery(group: string, pos: number): Delivery | undefined;
  putDelivery(group: string, pos: number, delivery: Delivery): void;
  deleteDelivery(group: string, pos: number): void;
  /** Position of the first event after `afterPos` that is neither acked nor dead. */
  firstUnresolved(group: string, afterPos: number): number | undefined;
  /** Moves the floor and forgets acked deliveries at or below it. */
  setFloor(group: string, floor: number): void;
  /** Counts; open deliveries at or below the floor are pending too. */
  counts(group: string, now: number): GroupCounts;
}
