import { randomBytes, randomUUID } from 'node:crypto';

/**
 * The in-memory event store behind the independent Events server: occurrences of one event
 * type in publish order, with a retention bound, and cursors that are random tokens mapped
 * to positions on this side. A token says nothing about its position and tokens do not
 * sort in log order, so a client that compares or parses cursors goes wrong here.
 */

export interface Occurrence {
  eventId: string;
  name: string;
  timestamp: string;
  data: Record<string, unknown>;
}

/** `activity` subscriptions may narrow by the `kind` field of the data. */
export interface ActivityArguments {
  kinds?: string[];
}

export interface Page {
  events: Occurrence[];
  /** The position after the last event looked at (matching or not). */
  cursor: string;
  hasMore: boolean;
  truncated: boolean;
}

interface Entry {
  seq: number;
  at: number;
  occurrence: Occurrence;
}

export class ActivityLog {
  readonly #entries: Entry[] = [];
  /** The last sequence number given out; position `p` is "after the event numbered `p`". */
  #head = 0;
  readonly #tokens = new Map<number, string>();
  readonly #positions = new Map<string, number>();
  readonly #listeners = new Set<() => void>();

  constructor(private readonly retention: number) {}

  /** The cursor for position `p`: minted the first time it is given out, the same ever after. */
  tokenOf(position: number): string {
    let token = this.#tokens.get(position);
    if (token === undefined) {
      token = randomBytes(12).toString('base64url');
      this.#tokens.set(position, token);
      this.#positions.set(token, position);
    }
    return token;
  }

  headCursor(): string {
    return this.tokenOf(this.#head);
  }

  /** The cursor right after the latest event published with `eventId`, if it is still held. */
  cursorAfter(eventId: string): string | undefined {
    const entry = this.#entries.findLast((e) => e.occurrence.eventId === eventId);
    return entry && this.tokenOf(entry.seq);
  }

  /** Appends one occurrence (a known `eventId` is published again, as an upstream retry would be) and forgets the oldest beyond the retention bound. */
  publish(name: string, data: Record<string, unknown>, eventId: string = `evt_${randomUUID()}`): Occurrence {
    const occurrence = { eventId, name, timestamp: new Date().toISOString(), data };
    this.#entries.push({ seq: ++this.#head, at: Date.now(), occurrence });
    if (this.#entries.length > this.retention) this.#entries.splice(0, this.#entries.length - this.retention);
    for (const listener of [...this.#listeners]) listener();
    return occurrence;
  }

  /** Calls `listener` after every publish until the returned function is called. */
  onPublish(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /**
   * Up to `limit` matching events after `cursor`. A cursor this log never gave, or one whose
   * next events were trimmed, resumes at the oldest event held; `maxAgeMs` skips events
   * older than that; either way the page says `truncated` when anything was passed over.
   */
  read(cursor: string, args: ActivityArguments, limit: number, maxAgeMs?: number): Page {
    const { entries, cursor: next, hasMore, truncated } = this.#scan(cursor, args, limit, maxAgeMs);
    return { events: entries.map((entry) => entry.occurrence), cursor: next, hasMore, truncated };
  }

  /** Every matching event after `cursor`, each with the cursor after it: what a stream sends. */
  stream(cursor: string, args: ActivityArguments, maxAgeMs?: number): Omit<Page, 'events' | 'hasMore'> & { resumedAt: string; events: (Occurrence & { cursor: string })[] } {
    const scan = this.#scan(cursor, args, Number.MAX_SAFE_INTEGER, maxAgeMs);
    return { ...scan, events: scan.entries.map((entry) => ({ ...entry.occurrence, cursor: this.tokenOf(entry.seq) })) };
  }

  /** Also says where reading resumed after a gap (`resumedAt`): the position before the first event read. */
  #scan(cursor: string, args: ActivityArguments, limit: number, maxAgeMs?: number): Omit<Page, 'events'> & { entries: Entry[]; resumedAt: string } {
    const oldest = this.#entries[0]?.seq ?? this.#head + 1;
    const known = this.#positions.get(cursor);
    let position = known !== undefined && known >= oldest - 1 ? known : oldest - 1;
    let truncated = position !== known;
    let index = this.#entries.findIndex((entry) => entry.seq > position);
    if (index === -1) index = this.#entries.length;
    if (maxAgeMs !== undefined) {
      const floor = Date.now() - maxAgeMs;
      while (index < this.#entries.length && this.#entries[index]!.at < floor) {
        position = this.#entries[index++]!.seq;
        truncated = true;
      }
    }
    const resumedAt = this.tokenOf(position);
    const entries: Entry[] = [];
    for (; index < this.#entries.length; index++) {
      const entry = this.#entries[index]!;
      if (matches(entry.occurrence, args)) {
        if (entries.length === limit) break;
        entries.push(entry);
      }
      position = entry.seq;
    }
    const hasMore = this.#entries.slice(index).some((entry) => matches(entry.occurrence, args));
    if (!hasMore) position = this.#head;
    return { entries, resumedAt, cursor: this.tokenOf(position), hasMore, truncated };
  }
}

function matches(occurrence: Occurrence, args: ActivityArguments): boolean {
  return args.kinds === undefined || args.kinds.includes(String(occurrence.data.kind));
}
