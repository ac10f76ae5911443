import { z } from 'zod';
import type { Event } from '../events/event.js';
import { compileFilter, eventFilterSchema } from '../events/filter.js';
import { LOG_START } from '../events/ulid.js';
import { advanceFloor, ensureGroup, eventIdSchema, type GroupVerb, paged, peekEvents, resolveDelivery, settleRefusal } from './consumer-groups.js';
import type { DeadLetter, DeadLetterSelection, EventDelivery, GroupState } from './event-log.js';
import type { Delivery, GroupStore } from './group-store.js';
import type { LogError } from './log-error.js';
import { parseArgument } from './validate.js';

/**
 * An operator's consumer-group operations (seek, delete, requeue, purge, replay) and what
 * they read (a group's state, an event's deliveries), written once over {@link GroupStore}
 * like the rules of `consumer-groups.ts`: each runs inside one backend transaction. The
 * argument checks, the wording and the reading of a delivery row serve the Redis backend too.
 */

/** At most this many events per selection or replay. */
export const MAX_SELECTED = 1000;

const eventIdsSchema = z.array(eventIdSchema).min(1).max(MAX_SELECTED);

const selectionSchema = z
  .object({
    ids: eventIdsSchema.optional(),
    filter: eventFilterSchema.optional(),
    limit: z.number().int().min(1).max(MAX_SELECTED).default(MAX_SELECTED),
  })
  .strict()
  .refine((s) => s.ids === undefined || s.filter === undefined, { message: 'name ids or a filter, not both' });

export type ParsedSelection = z.output<typeof selectionSchema>;

export function parseSelection(selection: DeadLetterSelection): ParsedSelection {
  return parseArgument(selectionSchema, selection, 'dead-letter selection');
}

export function parseEventIds(ids: unknown): string[] {
  return parseArgument(eventIdsSchema, ids, 'event ids');
}

export function parseEventId(id: unknown): string {
  return parseArgument(eventIdSchema, id, 'event id');
}

/** Refuses ids the log does not hold, naming them. */
export function unknownEvents(verb: GroupVerb, ids: string[]): LogError {
  return settleRefusal(verb, '', 'unknown_event', ids.map((id) => ({ id, latest: 0, given: 0 })));
}

/** A dead letter as listed; its cause is a fixed phrase: today only ever its leases running out. */
export function deadLetter(event: Event, deliveryCount: number, deadLetteredAt: number): DeadLetter {
  const lastError = `lease expired after ${deliveryCount} ${deliveryCount === 1 ? 'delivery' : 'deliveries'}`;
  return { event, deliveryCount, deadLetteredAt, lastError };
}

/** What a group's row for the event at `pos` (or its absence, against the floor) says of it. */
export function describeDelivery(d: Delivery | undefined, pos: number, floor: number, now: number): Omit<EventDelivery, 'group'> {
  const times = { leaseExpiresAt: null, deadLetteredAt: null };
  if (d === undefined) return pos <= floor ? { state: 'acked', deliveryCount: null, ...times } : { state: 'pending', deliveryCount: 0, ...times };
  if (d.state === 'dead') return { state: 'dead', deliveryCount: d.count, leaseExpiresAt: null, deadLetteredAt: d.deadAt };
  if (d.state === 'leased' && d.leaseUntil > now) return { state: 'leased', deliveryCount: d.count, leaseExpiresAt: d.leaseUntil, deadLetteredAt: null };
  return { state: d.state === 'acked' ? 'acked' : 'pending', deliveryCount: d.count, ...times };
}

/** The row of an event made pending again: open, never leased since, so its next delivery is the first. */
const REOPENED: Delivery = { state: 'leased', count: 0, leaseUntil: 0, deadAt: null };

interface Chosen {
  pos: number;
  id: string;
}

/** Positions of `ids`, deduplicated, in log order; refuses them all when one is not in the log. */
function positionsOf(store: GroupStore, ids: string[], verb: GroupVerb): Chosen[] {
  const found = new Map<number, string>();
  const unknown: string[] = [];
  for (const id of ids) {
    const pos = store.positionOf(id);
    if (pos === undefined) unknown.push(id);
    else found.set(pos, id);
  }
  if (unknown.length > 0) throw unknownEvents(verb, unknown);
  return [...found].sort(([a], [b]) => a - b).map(([pos, id]) => ({ pos, id }));
}

export function groupStateOf(store: GroupStore, group: string, maxDeliveries: number, now: number): GroupState | undefined {
  const floor = store.floor(group);
  if (floor === undefined) return undefined;
  const [next] = peekEvents(store, group, 1, maxDeliveries, now);
  return { floor: store.idAt(floor) ?? store.trimmedThrough() ?? LOG_START, ...store.counts(group, now), oldestPending: next?.id ?? null };
}

export function deliveriesOfEvent(store: GroupStore, id: string, now: number): EventDelivery[] {
  const pos = store.positionOf(id);
  if (pos === undefined) throw unknownEvents('list the deliveries of', [id]);
  return store
    .groupNames()
    .sort()
    .map((group) => ({ group, ...describeDelivery(store.delivery(group, pos), pos, store.floor(group)!, now) }));
}

export function listDeadLetters(store: GroupStore, group: string, limit: number): DeadLetter[] {
  return store.deadLetters(group, 0, limit).map(({ row, delivery }) => deadLetter(row.decode(), delivery!.count, delivery!.deadAt!));
}

/** Where `after` puts a floor: a retained event, the start (or the last id trimmed, the same), or the head. */
function seekPosition(store: GroupStore, after: string): number {
  const pos = store.positionOf(after);
  if (pos !== undefined) return pos;
  if (after === LOG_START || after === store.trimmedThrough()) return 0;
  if (after === store.head()) return store.headPos();
  throw unknownEvents('seek to', [after]);
}

export function seekGroupTo(store: GroupStore, group: string, after: string): void {
  store.resetGroup(group, seekPosition(store, after));
}

function selectDeadLetters(store: GroupStore, group: string, selection: ParsedSelection, verb: GroupVerb): Chosen[] {
  const named = selection.ids && positionsOf(store, selection.ids, verb);
  if (store.floor(group) === undefined) return [];
  if (named) return named.filter(({ pos }) => store.delivery(group, pos)?.state === 'dead').slice(0, selection.limit);
  const matches = compileFilter(selection.filter);
  const chosen: Chosen[] = [];
  for (const { row } of paged((pos, count) => store.deadLetters(group, pos, count), 0)) {
    if (chosen.length === selection.limit) break;
    if (matches(row)) chosen.push({ pos: row.pos, id: row.id });
  }
  return chosen;
}

export function requeueDeadLetters(store: GroupStore, group: string, selection: ParsedSelection): string[] {
  const chosen = selectDeadLetters(store, group, selection, 'requeue');
  for (const { pos } of chosen) store.putDelivery(group, pos, REOPENED);
  return chosen.map((c) => c.id);
}

export function purgeDeadLetters(store: GroupStore, group: string, selection: ParsedSelection): string[] {
  const chosen = selectDeadLetters(store, group, selection, 'purge');
  if (chosen.length === 0) return [];
  const floor = store.floor(group)!;
  for (const { pos } of chosen) resolveDelivery(store, group, pos, floor);
  advanceFloor(store, group, floor);
  return chosen.map((c) => c.id);
}

export function replayEvents(store: GroupStore, group: string, ids: string[]): string[] {
  const chosen = positionsOf(store, ids, 'replay');
  ensureGroup(store, group);
  for (const { pos } of chosen) store.putDelivery(group, pos, REOPENED);
  return chosen.map((c) => c.id);
}
