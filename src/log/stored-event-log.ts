import type { Event, NewEvent } from '../events/event.js';
import { nextUlid } from '../events/ulid.js';
import { type AppendListener, AppendNotifier } from './append-notifier.js';
import { AppendQueue, type QueuedAppend } from './append-queue.js';
import {
  ackEvents,
  claimEvents,
  createGroupAt,
  parseClaimOptions,
  parseDeliveryRefs,
  parseGroup,
  peekEvents,
  releaseEvents,
} from './consumer-groups.js';
import type {
  AppendResult,
  ClaimedEvent,
  ClaimOptions,
  CreateGroupOptions,
  DeadLetter,
  DeadLetterSelection,
  DeliveryRef,
  EventDelivery,
  EventLog,
  GroupCounts,
  GroupState,
  ReadOptions,
  ReadResult,
  RetentionPolicy,
  SerializedReadResult,
  TrimResult,
} from './event-log.js';
import {
  deliveriesOfEvent,
  groupStateOf,
  listDeadLetters,
  parseEventId,
  parseEventIds,
  parseSelection,
  purgeDeadLetters,
  replayEvents,
  requeueDeadLetters,
  seekGroupTo,
} from './group-operations.js';
import { LogError } from './log-error.js';
import type { LogOptions, ResolvedLogOptions } from './log-options.js';
import { claimLimitSchema, logOptionsSchema, retentionPolicySchema } from './log-options.js';
import type { LogStore } from './log-store.js';
import { readEvents, readSerializedEvents } from './read.js';
import { parseArgument, validateNewEvents } from './validate.js';

/** A commit flushed this long after the last hand-over goes to followers at once. */
const QUIET_MS = 2;
/** One flushed sooner is handed over this long after the last hand-over. */
const BUSY_EVERY_MS = 4;

/**
 * How long a flushed commit waits before followers are handed it (see `#release`), given the
 * time since the last hand-over. A commit after a quiet spell of {@link QUIET_MS} goes at
 * once. One flushed sooner means commits are coming fast: it waits until {@link BUSY_EVERY_MS}
 * after the last hand-over and goes with those flushed meanwhile, so a stream then writes
 * that long's worth of events per system call. A write costs the kernel about the same for
 * one frame as for several (loopback, 100 streams: ~6 µs per write of 1 to 8 frames), so at
 * 1,000 webhooks/s handing over every 4 ms instead of 2 cut the relay's CPU per frame by
 * ~10 %. Only stores that flush after the transaction (SQLite with `synchronous = FULL`)
 * pace their hand-overs.
 */
function handOverDelay(sinceLastMs: number): number {
  return sinceLastMs >= QUIET_MS ? 0 : BUSY_EVERY_MS - sinceLastMs;
}

/**
 * The {@link EventLog} contract built once over a backend's {@link LogStore} primitives.
 * Concurrent appends are group-committed ({@link AppendQueue}) in ONE transaction.
 */
export class StoredEventLog implements EventLog {
  readonly kind: 'memory' | 'sqlite';
  protected readonly options: ResolvedLogOptions;
  readonly #store: LogStore;
  readonly #notifier = new AppendNotifier();
  readonly #appends: AppendQueue;
  #closed = false;
  /** Commits made but not yet on disk; closing waits for them. */
  readonly #flushing = new Set<Promise<void>>();
  /** Flushed commits not yet handed to followers (see {@link #release}). */
  #ready: { prev: string | null; events: Event[] } | undefined;
  #publishTimer: NodeJS.Timeout | undefined;
  #publishedAt = Number.NEGATIVE_INFINITY;
  #stopWatching: (() => void) | undefined;

  constructor(store: LogStore, options: LogOptions = {}) {
    this.#store = store;
    // A store that flushes off the event loop commits one group at a time (see AppendQueue).
    this.#appends = new AppendQueue((queue) => this.#flush(queue), { maxGatherTurns: store.gatherTurns, oneAtATime: store.appendTransaction !== undefined });
    this.kind = store.kind;
    this.options = parseArgument(logOptionsSchema, options, 'log options');
  }

  append(input: NewEvent): Promise<AppendResult>;
  append(inputs: NewEvent[]): Promise<AppendResult[]>;
  async append(input: NewEvent | NewEvent[]): Promise<AppendResult | AppendResult[]> {
    this.#assertOpen();
    const batch = Array.isArray(input) ? input : [input];
    const events = validateNewEvents(batch, this.options.now());
    const results = await this.#appends.push(events);
    return Array.isArray(input) ? results : results[0]!;
  }

  /**
   * Commits a group of appends (once the store takes appends again, see
   * {@link LogStore.appendPause}), then — once the commit is on disk — hands its events to
   * followers and answers the appends, in commit order. A store that flushes after the
   * transaction ({@link LogStore.appendTransaction}) keeps the event loop free meanwhile; the
   * next group may commit while this one is flushing.
   */
  async #flush(queue: QueuedAppend[]): Promise<void> {
    const paused = this.#store.appendPause?.();
    if (paused !== undefined) await paused;
    const now = this.options.now();
    let commit: { prev: string | null; events: Event[]; outcomes: AppendResult[][] };
    let durable: Promise<void> | undefined;
    try {
      const write = () => this.#commit(queue, now);
      ({ result: commit, durable } = this.#store.appendTransaction ? this.#store.appendTransaction(write) : { result: this.#store.transaction(write), durable: undefined });
    } catch (error) {
      const failure = new LogError('store_unavailable', 'the event log could not commit', { cause: error });
      for (const q of queue) q.reject(failure);
      return;
    }
    if (durable === undefined) {
      if (commit.events.length > 0) this.#notifier.publish({ prev: commit.prev, events: commit.events });
      queue.forEach((q, i) => q.resolve(commit.outcomes[i]!));
      return;
    }
    let flushFailure: LogError | undefined;
    this.#flushing.add(durable);
    try {
      await durable;
    } catch (error) {
      flushFailure = new LogError('store_unavailable', 'the event log could not flush its commit to disk', { cause: error });
    } finally {
      this.#flushing.delete(durable);
    }
    // The events are in the log either way: followers read what it holds. An append is only
    // answered as stored once it is on disk; a sender told otherwise retries and is answered
    // with the same id, as a duplicate, once a later flush succeeds.
    this.#release(commit.prev, commit.events);
    queue.forEach((q, i) => (flushFailure ? q.reject(flushFailure) : q.resolve(commit.outcomes[i]!)));
  }

  /**
   * Hands flushed commits to followers, several at once: the commits one flush covered, and
   * those flushed while a busy log waits ({@link handOverDelay}), go out as one batch. A
   * fan-out costs a write per stream whatever the batch holds, so under load streams write
   * a few events per system call instead of one; a commit after a quiet spell goes at once.
   */
  #release(prev: string | null, events: readonly Event[]): void {
    if (events.length === 0) return;
    const ready = this.#ready;
    // One batch must be a stretch of the log with nothing between its events: a follower at
    // `prev` takes it whole. Another process's commit between two of ours breaks the stretch.
    if (ready !== undefined && ready.events.at(-1)!.id === prev) {
      ready.events.push(...events);
      return;
    }
    if (ready !== undefined) {
      clearTimeout(this.#publishTimer);
      this.#publishReady();
    }
    this.#ready = { prev, events: [...events] };
    const wait = handOverDelay(performance.now() - this.#publishedAt);
    if (wait <= 0) queueMicrotask(() => this.#publishReady());
    else this.#publishTimer = setTimeout(() => this.#publishReady(), wait);
  }

  #publishReady(): void {
    const batch = this.#ready;
    this.#ready = undefined;
    this.#publishTimer = undefined;
    if (batch === undefined) return;
    this.#publishedAt = performance.now();
    this.#notifier.publish(batch);
  }

  /**
   * Dedup check and id assignment, inside the transaction: the head is read under the
   * store's write lock, so ids can never be minted out of order, even by several processes.
   */
  #commit(queue: QueuedAppend[], now: number) {
    const prev = this.#store.head();
    let head = prev;
    const events: Event[] = [];
    const outcomes = queue.map((q) =>
      q.events.map((pending): AppendResult => {
        const existing = this.#store.dedupLookup(pending.source, pending.sourceEventId);
        if (existing !== undefined) return { id: existing, duplicate: true, event: this.#store.eventById(existing) };
        const event: Event = { id: nextUlid(head, now), ...pending };
        this.#store.insert(event, now);
        head = event.id;
        events.push(event);
        return { id: event.id, duplicate: false, event };
      }),
    );
    if (head !== prev) this.#store.setHead(head!);
    return { prev, events, outcomes };
  }

  async read(options: ReadOptions): Promise<ReadResult> {
    this.#assertOpen();
    return readEvents(this.#store, options);
  }

  async readSerialized(options: ReadOptions): Promise<SerializedReadResult> {
    this.#assertOpen();
    return readSerializedEvents(this.#store, options);
  }

  onCommit(listener: AppendListener): () => void {
    this.#assertOpen();
    if (this.#store.watchForeignCommits && !this.#stopWatching) {
      this.#stopWatching = this.#store.watchForeignCommits(() => this.#notifier.publish({ prev: null, events: [] }));
    }
    return this.#notifier.subscribe(listener);
  }

  async retained(): Promise<number> {
    this.#assertOpen();
    return this.#store.retainedCount();
  }

  async head(): Promise<string | null> {
    this.#assertOpen();
    return this.#store.head();
  }

  async trim(policy: RetentionPolicy): Promise<TrimResult> {
    this.#assertOpen();
    const { maxAgeMs, maxEvents } = parseArgument(retentionPolicySchema, policy, 'retention policy');
    const now = this.options.now();
    const cutoff = maxAgeMs === undefined ? undefined : now - maxAgeMs;
    return this.#store.transaction(() => this.#store.trim(cutoff, maxEvents, now - this.options.dedupWindowMs));
  }

  async createGroup(group: string, options: CreateGroupOptions = {}): Promise<void> {
    this.#assertOpen();
    const name = parseGroup(group);
    this.#store.transaction(() => createGroupAt(this.#store, name, options.from ?? 'start'));
  }

  async claim(group: string, options?: ClaimOptions): Promise<ClaimedEvent[]> {
    this.#assertOpen();
    const name = parseGroup(group);
    const parsed = parseClaimOptions(options);
    return this.#store.transaction(() => claimEvents(this.#store, name, parsed, this.options, this.options.now()));
  }

  async ack(group: string, events: DeliveryRef[]): Promise<void> {
    this.#assertOpen();
    const name = parseGroup(group);
    const parsed = parseDeliveryRefs(events);
    this.#store.transaction(() => ackEvents(this.#store, name, parsed));
  }

  async release(group: string, events: DeliveryRef[]): Promise<void> {
    this.#assertOpen();
    const name = parseGroup(group);
    const parsed = parseDeliveryRefs(events);
    this.#store.transaction(() => releaseEvents(this.#store, name, parsed));
  }

  async pending(group: string): Promise<GroupCounts> {
    this.#assertOpen();
    return this.#store.counts(parseGroup(group), this.options.now());
  }

  async peek(group: string, options: { limit?: number } = {}): Promise<Event[]> {
    this.#assertOpen();
    const name = parseGroup(group);
    const limit = parseArgument(claimLimitSchema, options.limit, 'peek limit');
    return this.#store.transaction(() => peekEvents(this.#store, name, limit, this.options.maxDeliveries, this.options.now()));
  }

  async deadLetters(group: string, options: { limit?: number } = {}): Promise<DeadLetter[]> {
    this.#assertOpen();
    return listDeadLetters(this.#store, parseGroup(group), options.limit ?? 100);
  }

  async get(id: string): Promise<Event | undefined> {
    this.#assertOpen();
    return this.#store.eventById(parseEventId(id)) ?? undefined;
  }

  async groups(): Promise<string[]> {
    this.#assertOpen();
    return this.#store.groupNames().sort();
  }

  async groupState(group: string): Promise<GroupState | undefined> {
    this.#assertOpen();
    const name = parseGroup(group);
    return this.#store.transaction(() => groupStateOf(this.#store, name, this.options.maxDeliveries, this.options.now()));
  }

  async deliveriesOf(id: string): Promise<EventDelivery[]> {
    this.#assertOpen();
    const parsed = parseEventId(id);
    return this.#store.transaction(() => deliveriesOfEvent(this.#store, parsed, this.options.now()));
  }

  async seekGroup(group: string, after: string): Promise<void> {
    this.#assertOpen();
    const name = parseGroup(group);
    const target = parseEventId(after);
    this.#store.transaction(() => seekGroupTo(this.#store, name, target));
  }

  async deleteGroup(group: string): Promise<boolean> {
    this.#assertOpen();
    const name = parseGroup(group);
    return this.#store.transaction(() => this.#store.deleteGroup(name));
  }

  async requeueDeadLetters(group: string, selection: DeadLetterSelection): Promise<string[]> {
    this.#assertOpen();
    const name = parseGroup(group);
    const parsed = parseSelection(selection);
    return this.#store.transaction(() => requeueDeadLetters(this.#store, name, parsed));
  }

  async purgeDeadLetters(group: string, selection: DeadLetterSelection): Promise<string[]> {
    this.#assertOpen();
    const name = parseGroup(group);
    const parsed = parseSelection(selection);
    return this.#store.transaction(() => purgeDeadLetters(this.#store, name, parsed));
  }

  async replay(group: string, ids: string[]): Promise<string[]> {
    this.#assertOpen();
    const name = parseGroup(group);
    const parsed = parseEventIds(ids);
    return this.#store.transaction(() => replayEvents(this.#store, name, parsed));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopWatching?.();
    await this.#appends.flush();
    await Promise.allSettled([...this.#flushing]);
    clearTimeout(this.#publishTimer);
    this.#publishReady();
    this.#store.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new LogError('closed', 'the event log is closed');
  }
}
