import type { Event, NewEvent } from '../events/event.js';
import type { EventFilter } from '../events/filter.js';
import type { AppendListener } from './append-notifier.js';
import type {
  ClaimedEvent,
  ClaimOptions,
  CreateGroupOptions,
  DeadLetter,
  DeadLetterSelection,
  DeliveryRef,
  EventDelivery,
  GroupCounts,
  GroupState,
} from './group-types.js';

/** What {@link EventLog.append} reports for one input, in input order. */
export interface AppendResult {
  /** The id of the committed event, or of the earlier event this input duplicates. */
  id: string;
  /** True when `(source, sourceEventId)` was already in the log (or in the dedup window). */
  duplicate: boolean;
  /**
   * The committed event, or for a duplicate the existing one. `null` only for a duplicate
   * whose original has been trimmed by retention while its dedup key is still kept.
   */
  event: Event | null;
}

export interface ReadOptions {
  /** Read strictly after this id. `null`: from the oldest retained event. */
  after: string | null;
  filter?: EventFilter;
  /** At most this many matching events (1–10,000; default 100). */
  limit?: number;
}

export interface ReadResult {
  /** Matching events after `after`, in log order. */
  events: Event[];
  /**
   * Where the next read continues: the last event examined (matching or not), so a sparse
   * filter never rescans; unchanged when nothing was examined. Always an id this log
   * accepts as `after`, or `null` for an empty log read from the beginning.
   */
  cursor: string | null;
  /** True when `after` was not a retained position: events may have been missed. */
  truncated: boolean;
  /**
   * Set when `truncated`: where the read resumed — the last id ever trimmed, or `LOG_START`
   * when nothing was. The events in (`after`, `resumedAt`] are the ones this reader missed;
   * the read's events all come after `resumedAt`.
   */
  resumedAt?: string;
  /** True when a matching event lies after `cursor` (or the read stopped at its row bound before the head): read again from `cursor`. False when the page drained the log. */
  hasMore: boolean;
}

/** An event as JSON text, with the fields a writer routes on. */
export interface SerializedEvent {
  id: string;
  type: string;
  source: string;
  subject?: string;
  /** `JSON.stringify` of the {@link Event}, as stored. */
  json: string;
}

export interface SerializedReadResult extends Omit<ReadResult, 'events'> {
  events: SerializedEvent[];
}

export interface RetentionPolicy {
  /** Drop events received more than this long ago. */
  maxAgeMs?: number;
  /** Keep at most this many events (the newest). */
  maxEvents?: number;
}

export interface TrimResult {
  /** Events removed. */
  removed: number;
  /** Dedup keys removed (those older than the dedup window). */
  dedupKeysRemoved: number;
}

export type {
  ClaimedEvent,
  ClaimOptions,
  CreateGroupOptions,
  DeadLetter,
  DeadLetterSelection,
  DeliveryRef,
  EventDelivery,
  GroupCounts,
  GroupState,
} from './group-types.js';

/**
 * The one ordered, durable log every view reads, and the consumer groups that share its
 * work. This documentation is the contract every backend passes (`test/contract/`).
 *
 * Ordering. Ids are ULIDs assigned inside the commit, each strictly greater than every id
 * before it — across concurrent appends, across processes sharing the store, and after a
 * restart even when the clock went backwards. No event is ever committed behind an id a
 * reader has already been given.
 *
 * Dedup. `(source, sourceEventId)` is unique for the dedup window (default 7 days, longer
 * than every provider's retry horizon), atomically with the append: of concurrent appends
 * of one key exactly one commits, the others return it with `duplicate: true`.
 *
 * Durability. A resolved `append` is committed in the backend's durable sense (SQLite: in
 * the WAL, fsynced; Redis: executed by the server, on disk as its `appendfsync` says;
 * memory: none). A rejected `append` committed nothing — unless the store's answer was lost
 * on the way (Redis: the connection dropped or the reply timed out): then it may have
 * committed, and the same input appended again is reported as its duplicate, so a retry is
 * always safe.
 *
 * Cursors. A cursor is an event id, or `LOG_START` (before every event; truncated once
 * anything was trimmed). Reading after a retained id, or after the last id ever
 * trimmed, continues seamlessly. Any other cursor (older than retention, unknown, or not a
 * ULID) reads from the oldest retained event with `truncated: true`: never a silent restart,
 * never an exception.
 *
 * Consumer groups. Each group resolves each event once: it is pending until a claim leases
 * it, then acked, or dead-lettered once `maxDeliveries` leases of it ran out. Claims take
 * pending events in log order, whichever way they became pending: never delivered, lease
 * expired or released, or made pending again by an operator ({@link EventLog.requeueDeadLetters},
 * {@link EventLog.replay}, {@link EventLog.seekGroup}) — an event older than the group's floor
 * included, which so comes before every event above it.
 *
 * Events handed out (by reads, commit notifications, claims and append results) may be shared between
 * readers: treat them as immutable.
 */
export interface EventLog {
  readonly kind: 'memory' | 'sqlite' | 'redis';

  /**
   * Appends one event or a batch (`LogError` `invalid_event` for bad input, before anything
   * is committed). A batch commits atomically and in order; a key repeated inside a batch
   * is a duplicate of its first occurrence.
   */
  append(input: NewEvent): Promise<AppendResult>;
  append(inputs: NewEvent[]): Promise<AppendResult[]>;

  /** Matching events strictly after `after`, in log order. */
  read(options: ReadOptions): Promise<ReadResult>;

  /**
   * {@link read}, with each event as JSON text: for writers that put events on the wire
   * (SSE replay, feeds), it skips decoding what the store already keeps as text.
   */
  readSerialized(options: ReadOptions): Promise<SerializedReadResult>;

  /**
   * Calls `listener` synchronously after each commit, in commit order, with the head before
   * it (`prev`) and the committed events — or no events for a commit made by another process
   * sharing the store (a hint to read). A reader whose position equals `prev` may take the
   * events as they are; any other reader reads from the log. This is the seam the one
   * replay-then-follow path (`src/delivery/`) builds on. Returns the unsubscribe function.
   */
  onCommit(listener: AppendListener): () => void;

  /** The last id ever assigned (retained or trimmed), or `null` for a new log. */
  head(): Promise<string | null>;

  /** How many events the log holds now (retention has not trimmed), cheaply: for metrics. */
  retained(): Promise<number>;

  /** Applies retention now; dedup keys are kept for the dedup window regardless. */
  trim(policy: RetentionPolicy): Promise<TrimResult>;

  /** Creates a group explicitly; a no-op for an existing group. Claiming creates one too. */
  createGroup(group: string, options?: CreateGroupOptions): Promise<void>;

  /**
   * Leases the group's next pending events in log order to this caller: redeliveries of
   * expired leases, events never delivered, and events made pending again (requeued,
   * replayed, also at or below the floor), matching `filter`. No event is leased to two
   * callers at once. An event whose lease expired after `maxDeliveries` deliveries is
   * dead-lettered instead of delivered again.
   */
  claim(group: string, options?: ClaimOptions): Promise<ClaimedEvent[]>;

  /**
   * Marks events processed (atomic: all or none). `LogError` `unknown_event` for an id not
   * in the log, `not_delivered` for one the group has not been given (or not since it was
   * made pending again), `already_acked` for a
   * repeat, `dead_lettered` for a dead letter, and `lease_lost` for a fenced
   * {@link DeliveryRef} whose `deliveryCount` is not the event's latest delivery (it was
   * claimed again after that lease ended); with an error nothing is acked.
   */
  ack(group: string, events: DeliveryRef[]): Promise<void>;

  /**
   * Ends leases early so the events can be claimed again (delivery counts stay); refused
   * as {@link ack} is, all or none.
   */
  release(group: string, events: DeliveryRef[]): Promise<void>;

  /** The group's counts; a group the log does not hold counts as a new one would, and is not created. */
  pending(group: string): Promise<GroupCounts>;

  /**
   * The events the group's next claims would lease (unleased, lease-expired or made pending
   * again, in log order; not those the next claim dead-letters), without leasing them and
   * without creating the group (1–100; default 10).
   */
  peek(group: string, options?: { limit?: number }): Promise<Event[]>;

  /** Dead-lettered events of the group, oldest first. */
  deadLetters(group: string, options?: { limit?: number }): Promise<DeadLetter[]>;

  /** One retained event by id; undefined when the log does not hold it. */
  get(id: string): Promise<Event | undefined>;

  /** The consumer groups the log holds (created or claimed from), in name order (JavaScript's string order). */
  groups(): Promise<string[]>;

  /** Where a group stands, read in one snapshot; undefined for a group the log does not hold (not created by reading it). */
  groupState(group: string): Promise<GroupState | undefined>;

  /**
   * What every group in the log holds about event `id`, in group name order: its
   * {@link EventDelivery} state, delivery count, lease end and dead-letter time. `LogError`
   * `unknown_event` when the log does not hold the event.
   */
  deliveriesOf(id: string): Promise<EventDelivery[]>;

  /**
   * Moves a group (creating it if needed): every event after `after` is pending again for
   * it with a fresh delivery count (leases are dropped: their holders' acks are refused as
   * `not_delivered`), every event at or before it is resolved. Dead letters at or before it
   * are kept, still listed by {@link deadLetters}; those after it are pending again.
   * `after` is `LOG_START` (the start), an event id the log holds, the last id trimmed
   * (the same as the start), or {@link head} (now); `LogError` `unknown_event` for any other.
   */
  seekGroup(group: string, after: string): Promise<void>;

  /** Forgets a group entirely (floor, deliveries, dead letters); false when it did not exist. */
  deleteGroup(group: string): Promise<boolean>;

  /**
   * Makes the selected dead letters of the group pending again with a fresh delivery count,
   * so its next claims lease them (in log order with its other pending events). Returns the
   * ids requeued, in log order; `LogError` `unknown_event` (nothing changed) for a named id
   * the log does not hold.
   */
  requeueDeadLetters(group: string, selection: DeadLetterSelection): Promise<string[]>;

  /**
   * Drops the selected dead letters from the group's list: resolved for good, never
   * delivered again. Returns the ids purged, in log order; refused as
   * {@link requeueDeadLetters} is.
   */
  purgeDeadLetters(group: string, selection: DeadLetterSelection): Promise<string[]>;

  /**
   * Makes events pending again for the group (creating it as a claim does) with a fresh
   * delivery count, whatever their state — acked, dead, leased (the holder's ack is then
   * refused as `not_delivered`), or at or below the floor — so its consumers receive them
   * again. 1–1000 ids; `LogError` `unknown_event` (nothing changed) for an id the log does
   * not hold. Returns the ids, deduplicated, in log order.
   */
  replay(group: string, ids: string[]): Promise<string[]>;

  close(): Promise<void>;
}
