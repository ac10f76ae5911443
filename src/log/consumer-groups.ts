import { z } from 'zod';
import type { Event } from '../events/event.js';
import { compileFilter, eventFilterSchema } from '../events/filter.js';
import type { ClaimedEvent, ClaimOptions } from './event-log.js';
import type { Candidate, GroupStore } from './group-store.js';
import { LogError, type LogErrorCode } from './log-error.js';
import type { ResolvedLogOptions } from './log-options.js';
import { claimLimitSchema, groupNameSchema } from './log-options.js';
import { MAX_SCAN_ROWS } from './scan.js';
import { parseArgument } from './validate.js';

/**
 * The consumer-group rules, written once over {@link GroupStore}. Every function here runs
 * inside one backend transaction, so "no event leased to two callers" holds because two
 * claims never interleave.
 */

const CLAIM_PAGE = 256;

const claimOptionsSchema = z
  .object({
    limit: claimLimitSchema,
    leaseMs: z.number().int().min(1000).max(3_600_000).optional(),
    filter: eventFilterSchema.optional(),
  })
  .strict();

export function parseGroup(group: unknown): string {
  return parseArgument(groupNameSchema, group, 'group name');
}

export function parseClaimOptions(options: ClaimOptions | undefined) {
  return parseArgument(claimOptionsSchema, options ?? {}, 'claim options');
}

export type ParsedClaimOptions = ReturnType<typeof parseClaimOptions>;

export function ensureGroup(store: GroupStore, group: string): number {
  const floor = store.floor(group);
  if (floor !== undefined) return floor;
  store.insertGroup(group, 0);
  return 0;
}

/** Moves the floor over every resolved event right above it. */
export function advanceFloor(store: GroupStore, group: string, floor: number): void {
  const first = store.firstUnresolved(group, floor);
  const next = first === undefined ? store.headPos() : first - 1;
  if (next > floor) store.setFloor(group, next);
}

/** Candidates page by page from `fetch(afterPos, count)`, starting after `from`. */
export function* paged(fetch: (afterPos: number, count: number) => Candidate[], from: number): Generator<Candidate> {
  for (let pos = from; ; ) {
    const page = fetch(pos, CLAIM_PAGE);
    yield* page;
    if (page.length < CLAIM_PAGE) return;
    pos = page.at(-1)!.row.pos;
  }
}

/**
 * What a claim may take, in log order: first the events made pending again at or below the
 * floor (all of them precede the rest), then the events above it.
 */
function* claimCandidates(store: GroupStore, group: string, floor: number, now: number): Generator<Candidate> {
  yield* paged((pos, count) => store.reopened(group, pos, floor, now, count), 0);
  yield* paged((pos, count) => store.claimable(group, pos, now, count), floor);
}

export function claimEvents(
  store: GroupStore,
  group: string,
  options: ParsedClaimOptions,
  config: ResolvedLogOptions,
  now: number,
): ClaimedEvent[] {
  const floor = ensureGroup(store, group);
  const matches = compileFilter(options.filter);
  const leaseUntil = now + (options.leaseMs ?? config.leaseMs);
  const claimed: ClaimedEvent[] = [];
  let deadLettered = false;
  let examined = 0;
  for (const { row, delivery } of claimCandidates(store, group, floor, now)) {
    if (claimed.length === options.limit || examined === MAX_SCAN_ROWS) break;
    examined++;
    const count = delivery?.count ?? 0;
    if (count >= config.maxDeliveries) {
      store.putDelivery(group, row.pos, { state: 'dead', count, leaseUntil: 0, deadAt: now });
      deadLettered = true;
      continue;
    }
    if (!matches(row)) continue;
    store.putDelivery(group, row.pos, { state: 'leased', count: count + 1, leaseUntil, deadAt: null });
    claimed.push({ ...row.decode(), deliveryCount: count + 1, leaseExpiresAt: leaseUntil });
  }
  if (deadLettered) advanceFloor(store, group, floor);
  return claimed;
}

/**
 * What the group would be given next, without leasing anything or creating the group: not
 * the events the next claim dead-letters.
 */
export function peekEvents(store: GroupStore, group: string, limit: number, maxDeliveries: number, now: number): Event[] {
  const events: Event[] = [];
  for (const { row, delivery } of claimCandidates(store, group, store.floor(group) ?? 0, now)) {
    if (events.length === limit) break;
    if ((delivery?.count ?? 0) < maxDeliveries) events.push(row.decode());
  }
  return events;
}

/** A parsed {@link DeliveryRef}: `deliveryCount` is absent for an unfenced settle. */
export interface SettleTarget {
  id: string;
  deliveryCount?: number;
}

/** An id a settle refused; for `lease_lost` with the event's latest delivery count and the one named (else 0). */
export interface RefusedId {
  id: string;
  latest: number;
  given: number;
}

/** What a refused group operation was asked to do, as its refusal words it. */
export type GroupVerb = 'acknowledge' | 'release' | 'requeue' | 'purge' | 'replay' | 'seek to' | 'list the deliveries of';

/**
 * Positions of `targets`, each checked to be currently delivered to the group, unresolved
 * and, when fenced, still at the delivery the caller claimed.
 */
function deliveredPositions(store: GroupStore, group: string, targets: SettleTarget[], verb: GroupVerb): number[] {
  const floor = store.floor(group);
  const problems = new Map<LogErrorCode, RefusedId[]>();
  const note = (code: LogErrorCode, id: string, latest = 0, given = 0) => problems.set(code, [...(problems.get(code) ?? []), { id, latest, given }]);
  const positions: number[] = [];
  for (const { id, deliveryCount } of targets) {
    const pos = store.positionOf(id);
    if (pos === undefined) {
      note('unknown_event', id);
      continue;
    }
    const delivery = floor === undefined ? undefined : store.delivery(group, pos);
    if (delivery?.state === 'leased' && delivery.count > 0) {
      if (deliveryCount === undefined || deliveryCount === delivery.count) positions.push(pos);
      else note('lease_lost', id, delivery.count, deliveryCount);
    } else if (delivery?.state === 'acked' || (delivery === undefined && floor !== undefined && pos <= floor)) note('already_acked', id);
    else if (delivery?.state === 'dead') note('dead_lettered', id);
    else note('not_delivered', id);
  }
  const [first] = problems;
  if (first) throw settleRefusal(verb, group, ...first);
  return positions;
}

/** Why a group operation (an ack, a release, an operator's) was refused, by reason; every backend words it so. */
export function settleRefusal(verb: GroupVerb, group: string, code: LogErrorCode, refused: RefusedId[]): LogError {
  const what: Partial<Record<LogErrorCode, string>> = {
    unknown_event: 'not in the log',
    already_acked: "already acknowledged (or before the group's start)",
    dead_lettered: 'dead-lettered',
    not_delivered: `not delivered to group "${group}"`,
  };
  const ids = refused.map((r) => r.id);
  const reason = code === 'lease_lost' ? refused.map((r) => leaseLost(r, refused.length === 1 ? 'it' : r.id)).join('; ') : what[code];
  return new LogError(code, `cannot ${verb} ${ids.join(', ')}: ${reason}; nothing was changed`, { ids });
}

function leaseLost({ latest, given }: RefusedId, it: string): string {
  if (given > latest) return `${it} is at delivery ${latest}, so delivery ${given} was never handed out`;
  return `${it} was re-delivered (delivery ${latest}) after your lease (delivery ${given}) ended; the new holder acknowledges it`;
}

/** An event id as arguments name one: what the log holds is decided by looking it up. */
export const eventIdSchema = z.string().min(1).max(64);

const deliveryRefsSchema = z
  .array(z.union([eventIdSchema.transform((id): SettleTarget => ({ id })), z.object({ id: eventIdSchema, deliveryCount: z.number().int().min(1) }).strict()]))
  .min(1)
  .max(1000);

export function parseDeliveryRefs(refs: unknown): SettleTarget[] {
  return parseArgument(deliveryRefsSchema, refs, 'events to settle');
}

/** Resolves an event for good: at or below the floor the floor says so and the row goes; above it the row is acked. */
export function resolveDelivery(store: GroupStore, group: string, pos: number, floor: number): void {
  if (pos <= floor) store.deleteDelivery(group, pos);
  else store.putDelivery(group, pos, { ...store.delivery(group, pos)!, state: 'acked', leaseUntil: 0, deadAt: null });
}

export function ackEvents(store: GroupStore, group: string, targets: SettleTarget[]): void {
  const positions = deliveredPositions(store, group, targets, 'acknowledge');
  const floor = store.floor(group)!;
  for (const pos of positions) resolveDelivery(store, group, pos, floor);
  advanceFloor(store, group, floor);
}

export function releaseEvents(store: GroupStore, group: string, targets: SettleTarget[]): void {
  for (const pos of deliveredPositions(store, group, targets, 'release')) {
    const delivery = store.delivery(group, pos)!;
    store.putDelivery(group, pos, { ...delivery, leaseUntil: 0 });
  }
}

export function createGroupAt(store: GroupStore, group: string, from: 'start' | 'now'): void {
  if (store.floor(group) === undefined) store.insertGroup(group, from === 'now' ? store.headPos() : 0);
}
