import type { Event } from '../../events/event.js';
import { parseClaimOptions, parseDeliveryRefs, parseGroup, type RefusedId, settleRefusal } from '../consumer-groups.js';
import type { ClaimedEvent, ClaimOptions, CreateGroupOptions, DeadLetter, DeliveryRef, GroupCounts } from '../event-log.js';
import type { LogErrorCode } from '../log-error.js';
import type { ResolvedLogOptions } from '../log-options.js';
import { claimLimitSchema } from '../log-options.js';
import { MAX_SCAN_ROWS } from '../scan.js';
import { parseArgument } from '../validate.js';
import type { RunScript, ScriptName } from './scripts.js';
import type { RedisKeys } from './keys.js';

type Guard = <T>(fn: () => Promise<T>) => Promise<T>;

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
    private readonly guard: Guard,
  ) {}

  async create(group: string, options: CreateGroupOptions): Promise<void> {
    const name = parseGroup(group);
    await this.guard(() => this.scripts.createGroup([this.keys.meta, this.keys.groups], [name, options.from ?? 'start']));
  }

  async claim(group: string, options: ClaimOptions | undefined): Promise<ClaimedEvent[]> {
    const name = parseGroup(group);
    const parsed = parseClaimOptions(options);
    const now = this.options.now();
    const leaseUntil = now + (parsed.leaseMs ?? this.options.leaseMs);
    const args = [name, now, leaseUntil, parsed.limit, this.options.maxDeliveries, parsed.filter ? JSON.stringify(parsed.filter) : '', MAX_SCAN_ROWS];
    const reply = (await this.guard(() => this.scripts.claim(this.#groupKeys(name), args))) as (string | number)[];
    const claimed: ClaimedEvent[] = [];
    for (let i = 0; i < reply.length; i += 2) {
      claimed.push({ ...(JSON.parse(reply[i] as string) as Event), deliveryCount: reply[i + 1] as number, leaseExpiresAt: leaseUntil });
    }
    return claimed;
  }

  async peek(group: string, limit: number | undefined): Promise<Event[]> {
    const name = parseGroup(group);
    const count = parseArgument(claimLimitSchema, limit, 'peek limit');
    const reply = (await this.guard(() => this.scripts.peek(this.#groupKeys(name), [name, this.options.now(), count]))) as string[];
    return reply.map((json) => JSON.parse(json) as Event);
  }

  /** Acks or releases, all or none; a refusal names the offending ids. */
  async settle(group: string, events: DeliveryRef[], mode: 'ack' | 'release'): Promise<void> {
    const name = parseGroup(group);
    const targets = parseDeliveryRefs(events).flatMap(({ id, deliveryCount }) => [id, deliveryCount ?? 0]);
    const keys = [this.keys.meta, this.keys.groups, this.#deliveries(name), this.keys.ids];
    const reply = (await this.guard(() => this.scripts.settle(keys, [name, mode, ...targets]))) as (string | number)[];
    if (reply.length === 0) return;
    const [code, ...bad] = reply as [LogErrorCode, ...(string | number)[]];
    const refused: RefusedId[] = [];
    for (let i = 0; i < bad.length; i += 3) refused.push({ id: String(bad[i]), latest: Number(bad[i + 1]), given: Number(bad[i + 2]) });
    throw settleRefusal(mode === 'ack' ? 'acknowledge' : 'release', name, code, refused);
  }

  async state(group: string, deadLetterLimit: number): Promise<{ counts: GroupCounts; deadLetters: DeadLetter[] }> {
    const name = parseGroup(group);
    const reply = (await this.guard(() => this.scripts.groupState(this.#groupKeys(name), [name, this.options.now(), deadLetterLimit]))) as (string | number)[];
    const [pending, leased, deadLettered] = reply as number[];
    const deadLetters: DeadLetter[] = [];
    for (let i = 3; i < reply.length; i += 3) {
      deadLetters.push({ event: JSON.parse(reply[i] as string) as Event, deliveryCount: reply[i + 1] as number, deadLetteredAt: Number(reply[i + 2]) });
    }
    return { counts: { pending: pending!, leased: leased!, deadLettered: deadLettered! }, deadLetters };
  }

  #deliveries(group: string): string {
    return `${this.keys.deliveriesPrefix}${group}`;
  }

  #groupKeys(group: string): string[] {
    return [this.keys.meta, this.keys.events, this.keys.groups, this.#deliveries(group)];
  }
}
