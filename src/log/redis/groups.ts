import type { Event } from '../../events/event.js';
import { LOG_START } from '../../events/ulid.js';
import { type GroupVerb, parseClaimOptions, parseDeliveryRefs, parseGroup, type RefusedId, settleRefusal } from '../consumer-groups.js';
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
} from '../event-log.js';
import { deadLetter, describeDelivery, parseEventId, parseEventIds, parseSelection, unknownEvents } from '../group-operations.js';
import type { Delivery } from '../group-store.js';
import type { LogErrorCode } from '../log-error.js';
import type { ResolvedLogOptions } from '../log-options.js';
import { claimLimitSchema } from '../log-options.js';
import { MAX_SCAN_ROWS } from '../scan.js';
import { parseArgument } from '../validate.js';
import { guard } from './connection.js';
import type { RedisKeys } from './keys.js';
import type { RunScript, ScriptName } from './scripts.js';

/**
 * Consumer groups on Redis: the rules of `consumer-groups.ts` (floor, leases, redelivery,
 * dead letters) run as Lua scripts, each one atomic on the server, so claimers on several
 * instances never lease one event twice. Leases follow the log's clock, not Redis's, so
 * every backend expires them alike.
 */
export class RedisGroups {
  constructor(
    private readonly scripts: Record<ScriptName, RunScript>,
    private readonly keys: RedisKeys,
    private readonly options: ResolvedLogOptions,
  ) {}

  async create(group: string, options: CreateGroupOptions): Promise<void> {
    const name = parseGroup(group);
    await guard(() => this.scripts.createGroup([this.keys.meta, this.keys.groups], [name, options.from ?? 'start']));
  }

  async claim(group: string, options: ClaimOptions | undefined): Promise<ClaimedEvent[]> {
    const name = parseGroup(group);
    const parsed = parseClaimOptions(options);
    const now = this.options.now();
    const leaseUntil = now + (parsed.leaseMs ?? this.options.leaseMs);
    const args = [name, now, leaseUntil, parsed.limit, this.options.maxDeliveries, parsed.filter ? JSON.stringify(parsed.filter) : '', MAX_SCAN_ROWS];
    const reply = (await guard(() => this.scripts.claim(this.#groupKeys(name), args))) as (string | number)[];
    const claimed: ClaimedEvent[] = [];
    for (let i = 0; i < reply.length; i += 2) {
      claimed.push({ ...(JSON.parse(reply[i] as string) as Event), deliveryCount: reply[i + 1] as number, leaseExpiresAt: leaseUntil });
    }
    return claimed;
  }

  async peek(group: string, limit: number | undefined): Promise<Event[]> {
    const name = parseGroup(group);
    const count = parseArgument(claimLimitSchema, limit, 'peek limit');
    const args = [name, this.options.now(), count, this.options.maxDeliveries];
    const reply = (await guard(() => this.scripts.peek(this.#groupKeys(name), args))) as string[];
    return reply.map((json) => JSON.parse(json) as Event);
  }

  /** Acks or releases, all or none; a refusal names the offending ids. */
  async settle(group: string, events: DeliveryRef[], mode: 'ack' | 'release'): Promise<void> {
    const name = parseGroup(group);
    const targets = parseDeliveryRefs(events).flatMap(({ id, deliveryCount }) => [id, deliveryCount ?? 0]);
    const keys = [this.keys.meta, this.keys.groups, this.#deliveries(name), this.keys.ids, this.#requeued(name)];
    const reply = (await guard(() => this.scripts.settle(keys, [name, mode, ...targets]))) as (string | number)[];
    if (reply.length === 0) return;
    const [code, ...bad] = reply as [LogErrorCode, ...(string | number)[]];
    const refused: RefusedId[] = [];
    for (let i = 0; i < bad.length; i += 3) refused.push({ id: String(bad[i]), latest: Number(bad[i + 1]), given: Number(bad[i + 2]) });
    throw settleRefusal(mode === 'ack' ? 'acknowledge' : 'release', name, code, refused);
  }

  /** The group's state in one snapshot, with its oldest dead letters up to `deadLetterLimit`. */
  async state(group: string, deadLetterLimit: number): Promise<{ state: GroupState | undefined; counts: GroupCounts; deadLetters: DeadLetter[] }> {
    const name = parseGroup(group);
    const args = [name, this.options.now(), deadLetterLimit, this.options.maxDeliveries];
    const reply = (await guard(() => this.scripts.groupState(this.#groupKeys(name), args))) as (string | number)[];
    const [exists, floor, pending, leased, deadLettered, oldest] = reply as [number, string, number, number, number, string];
    const deadLetters: DeadLetter[] = [];
    for (let i = 6; i < reply.length; i += 3) {
      deadLetters.push(deadLetter(JSON.parse(reply[i] as string) as Event, reply[i + 1] as number, Number(reply[i + 2])));
    }
    const counts = { pending, leased, deadLettered };
    const state = exists === 1 ? { floor: floor || LOG_START, ...counts, oldestPending: oldest || null } : undefined;
    return { state, counts, deadLetters };
  }

  async deliveriesOf(id: string): Promise<EventDelivery[]> {
    const parsed = parseEventId(id);
    const reply = (await guard(() => this.scripts.deliveriesOf([this.keys.ids, this.keys.groups], [parsed, this.keys.deliveriesPrefix]))) as (string | number)[];
    if (reply.length === 0) throw unknownEvents('list the deliveries of', [parsed]);
    const pos = reply[0] as number;
    const now = this.options.now();
    const out: EventDelivery[] = [];
    for (let i = 1; i < reply.length; i += 3) {
      const [group, floor, raw] = [reply[i] as string, reply[i + 1] as number, reply[i + 2] as string];
      out.push({ group, ...describeDelivery(raw === '' ? undefined : parseDelivery(raw), pos, floor, now) });
    }
    return out.sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0));
  }

  async seek(group: string, after: string): Promise<void> {
    const name = parseGroup(group);
    const target = parseEventId(after);
    const keys = [this.keys.meta, this.keys.groups, this.#deliveries(name), this.#requeued(name), this.keys.ids];
    const moved = await guard(() => this.scripts.seekGroup(keys, [name, target, LOG_START]));
    if (moved === 0) throw unknownEvents('seek to', [target]);
  }

  async delete(group: string): Promise<boolean> {
    const name = parseGroup(group);
    return (await guard(() => this.scripts.deleteGroup([this.keys.groups, this.#deliveries(name), this.#requeued(name)], [name]))) === 1;
  }

  /** Requeues or purges the selected dead letters; the ids, in log order. */
  async settleDeadLetters(group: string, selection: DeadLetterSelection, mode: 'requeue' | 'purge'): Promise<string[]> {
    const name = parseGroup(group);
    const { ids, filter, limit } = parseSelection(selection);
    const keys = [...this.#groupKeys(name), this.keys.ids];
    const args = [name, mode, limit, filter ? JSON.stringify(filter) : '', ids ? '1' : '0', ...(ids ?? [])];
    return idsReply(await guard(() => this.scripts.deadLetters(keys, args)), mode);
  }

  async replay(group: string, ids: string[]): Promise<string[]> {
    const name = parseGroup(group);
    const parsed = parseEventIds(ids);
    const keys = [this.keys.groups, this.#deliveries(name), this.#requeued(name), this.keys.ids];
    return idsReply(await guard(() => this.scripts.replay(keys, [name, ...parsed])), 'replay');
  }

  #deliveries(group: string): string {
    return `${this.keys.deliveriesPrefix}${group}`;
  }

  #requeued(group: string): string {
    return `${this.keys.requeuedPrefix}${group}`;
  }

  #groupKeys(group: string): string[] {
    return [this.keys.meta, this.keys.events, this.keys.groups, this.#deliveries(group), this.#requeued(group)];
  }
}

/** A delivery as the scripts store it: `state count leaseUntil deadAt`. */
function parseDelivery(raw: string): Delivery {
  const [state, count, leaseUntil, deadAt] = raw.split(' ');
  return { state: state as Delivery['state'], count: Number(count), leaseUntil: Number(leaseUntil), deadAt: state === 'dead' ? Number(deadAt) : null };
}

/** A script's `{ 'ok', ids… }` or `{ 'unknown_event', ids… }`. */
function idsReply(reply: unknown, verb: GroupVerb): string[] {
  const [status, ...ids] = reply as string[];
  if (status === 'unknown_event') throw unknownEvents(verb, ids);
  return ids;
}
