import type { Event } from '../../events/event.js';
import { ulidFloor } from '../../events/ulid.js';
import type { GroupCounts, TrimResult } from '../event-log.js';
import type { Candidate, Delivery } from '../group-store.js';
import type { LogOptions } from '../log-options.js';
import type { LogStore } from '../log-store.js';
import type { ScanRow } from '../scan.js';
import { StoredEventLog } from '../stored-event-log.js';

/** The event log in process memory: the whole contract without durability, for tests and demos. */
export class MemoryEventLog extends StoredEventLog {
  constructor(options: LogOptions = {}) {
    super(new MemoryStore(), options);
  }
}

/** An event with its JSON text, encoded once at insert: replays write the text as is. */
interface StoredEvent {
  event: Event;
  json: string;
}

interface GroupRecord {
  floor: number;
  deliveries: Map<number, Delivery>;
}

/**
 * Log primitives in process memory. Positions are 1-based and never reused: `#events[i]`
 * sits at position `#base + i + 1`, and trimming only moves `#base`. Transactions are
 * trivially atomic because every primitive is synchronous.
 */
class MemoryStore implements LogStore {
  readonly kind = 'memory' as const;
  #events: StoredEvent[] = [];
  #base = 0;
  readonly #positions = new Map<string, number>();
  readonly #dedup = new Map<string, { id: string; receivedMs: number }>();
  readonly #groups = new Map<string, GroupRecord>();
  #head: string | null = null;
  #trimmedThrough: string | null = null;

  transaction<T>(fn: () => T): T {
    return fn();
  }

  head(): string | null {
    return this.#head;
  }

  retainedCount(): number {
    return this.#events.length;
  }

  setHead(id: string): void {
    this.#head = id;
  }

  dedupLookup(source: string, sourceEventId: string): string | undefined {
    return this.#dedup.get(dedupKey(source, sourceEventId))?.id;
  }

  insert(event: Event, receivedMs: number): void {
    this.#events.push({ event, json: JSON.stringify(event) });
    this.#positions.set(event.id, this.headPos());
    this.#dedup.set(dedupKey(event.source, event.sourceEventId), { id: event.id, receivedMs });
  }

  eventById(id: string): Event | null {
    return this.#eventAt(this.#positions.get(id));
  }

  positionOf(id: string): number | undefined {
    return this.#positions.get(id);
  }

  trimmedThrough(): string | null {
    return this.#trimmedThrough;
  }

  scan(afterPos: number, count: number): ScanRow[] {
    const start = Math.max(0, afterPos - this.#base);
    return this.#events.slice(start, start + count).map((stored, i) => row(stored, this.#base + start + i + 1));
  }

  trim(cutoffMs: number | undefined, keep: number | undefined, dedupCutoffMs: number): TrimResult {
    let drop = keep === undefined ? 0 : Math.max(0, this.#events.length - keep);
    if (cutoffMs !== undefined) {
      const cutoffId = ulidFloor(cutoffMs);
      while (drop < this.#events.length && this.#events[drop]!.event.id < cutoffId) drop++;
    }
    if (drop > 0) {
      for (const { event } of this.#events.slice(0, drop)) this.#positions.delete(event.id);
      this.#trimmedThrough = this.#events[drop - 1]!.event.id;
      this.#events = this.#events.slice(drop);
      this.#base += drop;
    }
    let dedupKeysRemoved = 0;
    for (const [key, entry] of this.#dedup) {
      if (entry.receivedMs < dedupCutoffMs) {
        this.#dedup.delete(key);
        dedupKeysRemoved++;
      }
    }
    return { removed: drop, dedupKeysRemoved };
  }

  floor(group: string): number | undefined {
    return this.#groups.get(group)?.floor;
  }

  insertGroup(group: string, floor: number): void {
    if (!this.#groups.has(group)) this.#groups.set(group, { floor, deliveries: new Map() });
  }

  groupNames(): string[] {
    return [...this.#groups.keys()];
  }

  resetGroup(group: string, floor: number): void {
    const deliveries = this.#groups.get(group)?.deliveries ?? new Map<number, Delivery>();
    for (const [pos, delivery] of deliveries) if (pos > floor || delivery.state !== 'dead') deliveries.delete(pos);
    this.#groups.set(group, { floor, deliveries });
  }

  deleteGroup(group: string): boolean {
    return this.#groups.delete(group);
  }

  headPos(): number {
    return this.#base + this.#events.length;
  }

  idAt(pos: number): string | undefined {
    return this.#eventAt(pos)?.id;
  }

  claimable(group: string, afterPos: number, now: number, count: number): Candidate[] {
    const deliveries = this.#groups.get(group)?.deliveries ?? new Map<number, Delivery>();
    const out: Candidate[] = [];
    for (let i = Math.max(0, afterPos - this.#base); i < this.#events.length && out.length < count; i++) {
      const pos = this.#base + i + 1;
      const delivery = deliveries.get(pos);
      if (delivery && (delivery.state !== 'leased' || delivery.leaseUntil > now)) continue;
      out.push({ row: row(this.#events[i]!, pos), delivery });
    }
    return out;
  }

  reopened(group: string, afterPos: number, throughPos: number, now: number, count: number): Candidate[] {
    return this.#rows(group, afterPos, count, (pos, d) => pos <= throughPos && d.state === 'leased' && d.leaseUntil <= now);
  }

  deadLetters(group: string, afterPos: number, count: number): Candidate[] {
    return this.#rows(group, afterPos, count, (_, d) => d.state === 'dead');
  }

  /** The group's retained rows after `afterPos` that `keep` takes, in log order, at most `count`. */
  #rows(group: string, afterPos: number, count: number, keep: (pos: number, d: Delivery) => boolean): Candidate[] {
    const deliveries = this.#groups.get(group)?.deliveries ?? new Map<number, Delivery>();
    return [...deliveries]
      .filter(([pos, d]) => pos > Math.max(afterPos, this.#base) && keep(pos, d))
      .sort(([a], [b]) => a - b)
      .slice(0, count)
      .map(([pos, delivery]) => ({ row: row(this.#events[pos - this.#base - 1]!, pos), delivery }));
  }

  delivery(group: string, pos: number): Delivery | undefined {
    return this.#groups.get(group)?.deliveries.get(pos);
  }

  putDelivery(group: string, pos: number, delivery: Delivery): void {
    this.#group(group).deliveries.set(pos, delivery);
  }

  deleteDelivery(group: string, pos: number): void {
    this.#group(group).deliveries.delete(pos);
  }

  firstUnresolved(group: string, afterPos: number): number | undefined {
    const deliveries = this.#group(group).deliveries;
    for (let pos = Math.max(afterPos, this.#base) + 1; pos <= this.headPos(); pos++) {
      const state = deliveries.get(pos)?.state;
      if (state !== 'acked' && state !== 'dead') return pos;
    }
    return undefined;
  }

  setFloor(group: string, floor: number): void {
    const state = this.#group(group);
    state.floor = floor;
    for (const [pos, delivery] of state.deliveries) {
      if (pos <= floor && delivery.state === 'acked') state.deliveries.delete(pos);
    }
  }

  counts(group: string, now: number): GroupCounts {
    const state = this.#groups.get(group);
    const floor = Math.max(state?.floor ?? 0, this.#base);
    let resolvedAbove = 0;
    let reopenedBelow = 0;
    let leased = 0;
    let deadLettered = 0;
    for (const [pos, d] of state?.deliveries ?? []) {
      if (pos <= this.#base) continue;
      if (d.state === 'dead') deadLettered++;
      if (pos > floor && d.state !== 'leased') resolvedAbove++;
      if (pos <= floor && d.state === 'leased') reopenedBelow++;
      if (d.state === 'leased' && d.leaseUntil > now) leased++;
    }
    return { pending: this.headPos() - floor - resolvedAbove + reopenedBelow, leased, deadLettered };
  }

  close(): void {
    this.#events = [];
  }

  #group(group: string): GroupRecord {
    const state = this.#groups.get(group);
    if (!state) throw new Error(`consumer group "${group}" does not exist`);
    return state;
  }

  #eventAt(pos: number | undefined): Event | null {
    if (pos === undefined || pos <= this.#base) return null;
    return this.#events[pos - this.#base - 1]?.event ?? null;
  }
}

function row({ event, json }: StoredEvent, pos: number): ScanRow {
  return { pos, id: event.id, type: event.type, source: event.source, subject: event.subject, decode: () => event, json: () => json };
}

function dedupKey(source: string, sourceEventId: string): string {
  return `${source}\u0000${sourceEventId}`;
}
