import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Event, NewEvent } from '../../events/event.js';
import { isUlid, LOG_START, nextUlid, ulidFloor } from '../../events/ulid.js';
import { type AppendListener, AppendNotifier } from '../append-notifier.js';
import { AppendQueue, type QueuedAppend } from '../append-queue.js';
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
} from '../event-log.js';
import { LogError } from '../log-error.js';
import type { LogOptions, ResolvedLogOptions } from '../log-options.js';
import { logOptionsSchema, retentionPolicySchema } from '../log-options.js';
import { serializedEvent } from '../read.js';
import { parseEventId } from '../group-operations.js';
import { parseArgument, validateNewEvents } from '../validate.js';
import { ForeignCommits } from './foreign-commits.js';
import { RedisGroups } from './groups.js';
import { redisKeys, type RedisKeys } from './keys.js';
import type { RedisConnectionOptions } from './connection.js';
import { connectRedis, guard, redisConnectionSchema } from './connection.js';
import type { RunScript, ScriptName } from './scripts.js';
import { defineScripts } from './scripts.js';
import { type CursorReply, readPages, type StoredRow, type StreamEntry, toRow } from './read-pages.js';

export type RedisEventLogOptions = LogOptions &
  (
    | RedisConnectionOptions
    | {
        /** A connection from `connectRedis` shared with other stores; its opener closes it. */
        connection: Redis;
        keyPrefix?: string;
      }
  );

/**
 * The {@link EventLog} on Redis, for several relay instances sharing one ordered log.
 *
 * Events live in a Stream whose entry ids are contiguous positions; every write is one Lua
 * script (`scripts/*.lua` beside this file), so id assignment, dedup and the group rules run
 * atomically inside Redis and instances never race each other into an order violation.
 * Commits are announced on a pub/sub channel, which brings them to followers on every
 * instance (`foreign-commits.ts`).
 *
 * Durability follows the server's persistence: a resolved append means Redis executed the
 * commit; it survives a Redis crash only with `appendonly yes` (`appendfsync always` for
 * every write, `everysec` for all but the last second).
 *
 * Concurrent appends are group-committed ({@link AppendQueue}) in one script call.
 */
export class RedisEventLog implements EventLog {
  readonly kind = 'redis' as const;
  readonly #options: ResolvedLogOptions;
  readonly #redis: Redis;
  /** Whether `close` closes the connection: not when it is shared. */
  readonly #ownsConnection: boolean;
  readonly #scripts: Record<ScriptName, RunScript>;
  readonly #keys: RedisKeys;
  readonly #groups: RedisGroups;
  readonly #notifier = new AppendNotifier();
  /** Tells this instance's own commit announcements from other instances'. */
  readonly #token = randomUUID();
  readonly #foreign: ForeignCommits;
  readonly #appends = new AppendQueue((queue) => this.#commit(queue));
  #closed = false;

  constructor(options: RedisEventLogOptions) {
    let keyPrefix: string;
    if ('connection' in options) {
      const { connection, keyPrefix: prefix, ...logOptions } = options;
      keyPrefix = parseArgument(redisConnectionSchema.shape.keyPrefix, prefix, 'Redis log options');
      this.#options = parseArgument(logOptionsSchema, logOptions, 'log options');
      this.#redis = connection;
      this.#ownsConnection = false;
    } else {
      const { url, keyPrefix: prefix, commandTimeoutMs, ...logOptions } = parseArgument(redisConnectionSchema.loose(), options, 'Redis log options');
      keyPrefix = prefix;
      this.#options = parseArgument(logOptionsSchema, logOptions, 'log options');
      this.#redis = connectRedis(url, commandTimeoutMs);
      this.#ownsConnection = true;
    }
    this.#scripts = defineScripts(this.#redis);
    this.#keys = redisKeys(keyPrefix);
    this.#groups = new RedisGroups(this.#scripts, this.#keys, this.#options);
    this.#foreign = new ForeignCommits(this.#redis, this.#keys.commits, this.#token, this.#notifier, (o) => this.read(o), () => this.head());
  }

  append(input: NewEvent): Promise<AppendResult>;
  append(inputs: NewEvent[]): Promise<AppendResult[]>;
  async append(input: NewEvent | NewEvent[]): Promise<AppendResult | AppendResult[]> {
    this.#assertOpen();
    const batch = Array.isArray(input) ? input : [input];
    const events = validateNewEvents(batch, this.#options.now());
    const results = await this.#appends.push(events);
    return Array.isArray(input) ? results : results[0]!;
  }

  async #commit(queue: QueuedAppend[]): Promise<void> {
    const pending = queue.flatMap((q) => q.events);
    const args: (string | number)[] = [this.#options.now(), randomPart(), this.#keys.commits, this.#token];
    for (const e of pending) {
      const header = e.subject === undefined ? [e.type, e.source] : [e.type, e.source, e.subject];
      args.push(e.source, e.sourceEventId, JSON.stringify(header).slice(1), JSON.stringify(e).slice(1));
    }
    const k = this.#keys;
    let reply: unknown[];
    try {
      reply = (await this.#scripts.append([k.meta, k.events, k.ids, k.dedup, k.dedupAt], args)) as unknown[];
    } catch (error) {
      const failure = new LogError('store_unavailable', 'the event log could not commit', { cause: error });
      for (const q of queue) q.reject(failure);
      return;
    }
    const prev = (reply[0] as string) || null;
    const committed: Event[] = [];
    const outcomes = pending.map((e, i): AppendResult => {
      const id = reply[1 + i * 3] as string;
      if (reply[2 + i * 3] === 1) {
        const json = reply[3 + i * 3] as string;
        return { id, duplicate: true, event: json === '' ? null : (JSON.parse(json) as Event) };
      }
      const event: Event = { id, ...e };
      committed.push(event);
      return { id, duplicate: false, event };
    });
    if (committed.length > 0) {
      this.#notifier.publish({ prev, events: committed });
      this.#foreign.noteLocal(prev, committed.at(-1)!.id);
    }
    let offset = 0;
    for (const q of queue) {
      q.resolve(outcomes.slice(offset, offset + q.events.length));
      offset += q.events.length;
    }
  }

  async read(options: ReadOptions): Promise<ReadResult> {
    this.#assertOpen();
    return this.#read(options, (row) => JSON.parse(row.body) as Event);
  }

  async readSerialized(options: ReadOptions): Promise<SerializedReadResult> {
    this.#assertOpen();
    return this.#read(options, (row) => serializedEvent(row, row.body));
  }

  #read<T>(options: ReadOptions, pick: (row: StoredRow) => T) {
    const after = options?.after;
    const kind = after === null ? 'null' : after === LOG_START ? 'start' : isUlid(after) ? 'ulid' : 'other';
    const k = this.#keys;
    return guard(() =>
      readPages(options, pick, {
        resolve: () => this.#scripts.read([k.meta, k.ids], [kind, kind === 'ulid' ? after! : '']) as Promise<CursorReply>,
        page: (afterPos, count) => this.#redis.xrangeBuffer(k.events, `(${afterPos}-0`, '+', 'COUNT', count) as Promise<StreamEntry[]>,
      }),
    );
  }

  onCommit(listener: AppendListener): () => void {
    this.#assertOpen();
    this.#foreign.start();
    return this.#notifier.subscribe(listener);
  }

  async head(): Promise<string | null> {
    this.#assertOpen();
    return guard(() => this.#redis.hget(this.#keys.meta, 'head'));
  }

  async retained(): Promise<number> {
    this.#assertOpen();
    return guard(() => this.#redis.xlen(this.#keys.events));
  }

  async trim(policy: RetentionPolicy): Promise<TrimResult> {
    this.#assertOpen();
    const { maxAgeMs, maxEvents } = parseArgument(retentionPolicySchema, policy, 'retention policy');
    const now = this.#options.now();
    const k = this.#keys;
    const args = [maxAgeMs === undefined ? '' : ulidFloor(now - maxAgeMs), maxEvents ?? '', now - this.#options.dedupWindowMs, k.deliveriesPrefix, k.requeuedPrefix];
    const [removed, dedupKeysRemoved] = (await guard(() => this.#scripts.trim([k.meta, k.events, k.ids, k.dedup, k.dedupAt, k.groups], args))) as number[];
    return { removed: removed!, dedupKeysRemoved: dedupKeysRemoved! };
  }

  async createGroup(group: string, options: CreateGroupOptions = {}): Promise<void> {
    this.#assertOpen();
    return this.#groups.create(group, options);
  }

  async claim(group: string, options?: ClaimOptions): Promise<ClaimedEvent[]> {
    this.#assertOpen();
    return this.#groups.claim(group, options);
  }

  async ack(group: string, events: DeliveryRef[]): Promise<void> {
    this.#assertOpen();
    return this.#groups.settle(group, events, 'ack');
  }

  async release(group: string, events: DeliveryRef[]): Promise<void> {
    this.#assertOpen();
    return this.#groups.settle(group, events, 'release');
  }

  async pending(group: string): Promise<GroupCounts> {
    this.#assertOpen();
    return (await this.#groups.state(group, 0)).counts;
  }

  async peek(group: string, options: { limit?: number } = {}): Promise<Event[]> {
    this.#assertOpen();
    return this.#groups.peek(group, options.limit);
  }

  async deadLetters(group: string, options: { limit?: number } = {}): Promise<DeadLetter[]> {
    this.#assertOpen();
    return (await this.#groups.state(group, options.limit ?? 100)).deadLetters;
  }

  async get(id: string): Promise<Event | undefined> {
    this.#assertOpen();
    const pos = await guard(() => this.#redis.hget(this.#keys.ids, parseEventId(id)));
    const [entry] = pos === null ? [] : ((await guard(() => this.#redis.xrangeBuffer(this.#keys.events, `${pos}-0`, `${pos}-0`))) as StreamEntry[]);
    return entry && (JSON.parse(toRow(entry).body) as Event);
  }

  async groups(): Promise<string[]> {
    this.#assertOpen();
    return (await guard(() => this.#redis.hkeys(this.#keys.groups))).sort();
  }

  async groupState(group: string): Promise<GroupState | undefined> {
    this.#assertOpen();
    return (await this.#groups.state(group, 0)).state;
  }

  async deliveriesOf(id: string): Promise<EventDelivery[]> {
    this.#assertOpen();
    return this.#groups.deliveriesOf(id);
  }

  async seekGroup(group: string, after: string): Promise<void> {
    this.#assertOpen();
    return this.#groups.seek(group, after);
  }

  async deleteGroup(group: string): Promise<boolean> {
    this.#assertOpen();
    return this.#groups.delete(group);
  }

  async requeueDeadLetters(group: string, selection: DeadLetterSelection): Promise<string[]> {
    this.#assertOpen();
    return this.#groups.settleDeadLetters(group, selection, 'requeue');
  }

  async purgeDeadLetters(group: string, selection: DeadLetterSelection): Promise<string[]> {
    this.#assertOpen();
    return this.#groups.settleDeadLetters(group, selection, 'purge');
  }

  async replay(group: string, ids: string[]): Promise<string[]> {
    this.#assertOpen();
    return this.#groups.replay(group, ids);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#appends.flush();
    this.#foreign.stop();
    if (this.#ownsConnection) await this.#redis.quit().catch(() => this.#redis.disconnect());
  }

  #assertOpen(): void {
    if (this.#closed) throw new LogError('closed', 'the event log is closed');
  }
}

/** The random half of a fresh ULID; the script uses it only when the clock moved on. */
function randomPart(): string {
  return nextUlid(null, 0).slice(10);
}

