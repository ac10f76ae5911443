import type { Event } from '../events/event.js';
import { LOG_START } from '../events/ulid.js';

/**
 * What the operator commands print for people: aligned columns, times in local time to the
 * second. `--json` prints the relay's answers instead, as they are (`src/admin/openapi.json`
 * describes them); these are the shapes read here.
 */

/** `GET /events`. */
export interface EventPage {
  events: Event[];
  nextCursor: string | null;
  truncated: boolean;
  resumedAt?: string;
}

/** `GET /events/:id`. */
export interface EventDetail {
  event: Event;
  deliveries: { group: string; state: string; deliveryCount: number | null; leaseExpiresAt: string | null; deadLetteredAt: string | null }[];
  webhooks: { subscription: string; url: string; name: string; state: string; attempts?: number; nextAttemptAt?: string | null }[];
}

/** `GET /groups/:group`, and each of `GET /groups`. */
export interface GroupState {
  group: string;
  floor: string;
  pending: number;
  leased: number;
  deadLettered: number;
  oldestPending: string | null;
}

/** `GET /groups/:group/dead-letters`. */
export interface DeadLetterList {
  group: string;
  deadLetters: { event: Event; deliveryCount: number; lastError: string; deadLetteredAt: string }[];
}

const two = (n: number) => String(n).padStart(2, '0');

/** `2026-12-07 10:00:00` in local time (the `TZ` of the shell); `-` for none. */
export function readableTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  return `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())} ${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}`;
}

/** Rows under their headers, each column as wide as its widest cell; the last one is not padded. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** Label and value pairs, the values aligned. */
function fields(pairs: [string, string][]): string {
  const width = Math.max(...pairs.map(([label]) => label.length));
  return pairs.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n');
}

/** One row per event: received, type, subject, source, id. */
export function formatEvents(events: Event[]): string {
  if (events.length === 0) return 'no events';
  return table(
    ['RECEIVED', 'TYPE', 'SUBJECT', 'SOURCE', 'ID'],
    events.map((e) => [readableTime(e.receivedAt), e.type, e.subject ?? '-', e.source, e.id]),
  );
}

/** The event's fields and data, then where it stands in each consumer group and webhook subscription. */
export function formatEventDetail({ event, deliveries, webhooks }: EventDetail): string {
  const head = fields([
    ['id', event.id],
    ['type', event.type],
    ['source', `${event.source} (${event.sourceType}, ${event.sourceEventId})`],
    ['subject', event.subject ?? '-'],
    ['customer', event.customerId ?? '-'],
    ['occurred', readableTime(event.occurredAt)],
    ['received', readableTime(event.receivedAt)],
    ['data', JSON.stringify(event.data)],
  ]);
  const groups =
    deliveries.length === 0
      ? 'consumer groups: none you may see has it'
      : table(
          ['GROUP', 'STATE', 'DELIVERIES', 'LEASE EXPIRES', 'DEAD-LETTERED'],
          deliveries.map((d) => [d.group, d.state, String(d.deliveryCount ?? '-'), readableTime(d.leaseExpiresAt), readableTime(d.deadLetteredAt)]),
        );
  const subscriptions =
    webhooks.length === 0
      ? 'webhook subscriptions: none of yours matches it'
      : table(
          ['SUBSCRIPTION', 'NAME', 'STATE', 'ATTEMPTS', 'NEXT ATTEMPT', 'URL'],
          webhooks.map((w) => [w.subscription, w.name, w.state, String(w.attempts ?? '-'), readableTime(w.nextAttemptAt), w.url]),
        );
  return [head, groups, subscriptions].join('\n\n');
}

function floorText(floor: string): string {
  return floor === LOG_START ? 'start' : floor;
}

/** One row per consumer group. */
export function formatGroups(groups: GroupState[]): string {
  if (groups.length === 0) return 'no consumer groups you may see';
  return table(
    ['GROUP', 'PENDING', 'LEASED', 'DEAD', 'FLOOR', 'NEXT'],
    groups.map((g) => [g.group, String(g.pending), String(g.leased), String(g.deadLettered), floorText(g.floor), g.oldestPending ?? '-']),
  );
}

/** One group: counts, the floor (everything at or before it is done) and the next event a claim would lease. */
export function formatGroup(state: GroupState): string {
  return fields([
    ['group', state.group],
    ['pending', String(state.pending)],
    ['leased', String(state.leased)],
    ['dead-lettered', String(state.deadLettered)],
    ['floor', floorText(state.floor)],
    ['next', state.oldestPending ?? '-'],
  ]);
}

/** One row per dead letter, its last error last (it is the longest). */
export function formatDeadLetters({ group, deadLetters }: DeadLetterList): string {
  if (deadLetters.length === 0) return `no dead letters in ${group}`;
  return table(
    ['ID', 'TYPE', 'DELIVERIES', 'DEAD-LETTERED', 'ERROR'],
    deadLetters.map((d) => [d.event.id, d.event.type, String(d.deliveryCount), readableTime(d.deadLetteredAt), d.lastError]),
  );
}

/** `2 dead letters`: a count and its noun. */
export function counted(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** A summary line (`requeued 2 dead letters of alice/v1`), then the ids, one a line. */
export function formatIds(summary: string, ids: string[]): string {
  return [summary, ...ids.map((id) => `  ${id}`)].join('\n');
}
