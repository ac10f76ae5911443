import { LOG_START, type CommittedEvent, type Model } from './model.js';
import type { Interruption, Observation } from './readers/reader.js';

export interface WalkResult {
  failures: string[];
  events: number;
  gaps: number;
  /** Where the reader stood at the end. */
  position: string;
}

const MAX_FAILURES = 5;

function span(events: CommittedEvent[]): string {
  const trimmed = (e: CommittedEvent) => e.id;
  if (events.length === 1) return trimmed(events[0]!);
  return `${trimmed(events[0]!)}…${trimmed(events[events.length - 1]!)}`;
}

/**
 * Where a webhook subscription's deliveries may go back to. The relay delivers in log order
 * from a stored watermark that only moves forward; each process resumes from it. After a
 * kill the next process may resend anything since where the killed one started (it wrote
 * its progress a moment behind); after a graceful stop it wrote all it had delivered, so
 * only the delivery in flight may come again — as after the receiver dropped its
 * connections, which may have lost its last answer. Nothing else goes back, and each
 * interruption lets the deliveries go back once.
 */
class Rewinds {
  /** How far back the process delivering now may have started. */
  #floor: string;
  /** Interruptions not yet seen going back: how far back each may go, and whether a new process resumes after it. */
  readonly #pending: { floor: string; restart: boolean }[] = [];

  constructor(private last: string) {
    this.#floor = last;
  }

  interrupted(by: Interruption): void {
    // While an earlier one has not gone back yet, the process now running may have started anywhere it allowed.
    const floor = this.#pending.at(-1)?.floor ?? (by === 'kill' ? this.#floor : this.last);
    this.#pending.push({ floor, restart: by !== 'cut' });
  }

  /** The relay delivered at `id` (an event, or a gap's cursor); false when it went back further than an interruption allows. */
  step(id: string): boolean {
    const back = id <= this.last;
    this.last = id;
    if (!back) return true;
    const pending = this.#pending.shift();
    if (pending === undefined || id < pending.floor) return false;
    if (pending.restart) this.#floor = pending.floor;
    return true;
  }
}

/**
 * Replays one reader's observations against the model. The reader must have received, in
 * order and once each, every committed event that matches its filter after where it
 * started — except those inside a gap it was told of. A gap must start at the reader's
 * position and cover only events retention had removed when the relay said so (matching or
 * not: the relay cannot know what a removed event would have matched), and must cover at
 * least one; a position the relay names must never pass an undelivered matching event.
 *
 * A reader whose positions are never named (`namesPositions` false: a webhook receiver)
 * need not end at the head, only hold every matching event; its redeliveries, and a gap
 * sent again, are judged by {@link Rewinds}.
 */
export function walkReader(observations: readonly Observation[], filter: readonly string[] | null, model: Model, head: string, namesPositions = true): WalkResult {
  const failures: string[] = [];
  const fail = (at: number, text: string) => {
    if (failures.length < MAX_FAILURES) failures.push(`#${at}: ${text}`);
  };
  const matches = (e: CommittedEvent) => filter === null || filter.includes(e.type);
  const missed = (after: string, through: string) => model.between(after, through).filter(matches);
  const describeMissed = (events: CommittedEvent[]) => {
    const trimmed = events.filter((e) => model.isTrimmed(e.id)).length;
    return `${events.length} matching events ${span(events)} (${trimmed} of them trimmed by retention)`;
  };
  let pos: string | undefined;
  let events = 0;
  let gaps = 0;
  const delivered = new Set<string>();
  /** The last gap named no usable range: what the next event skips was signalled, just not bounded. */
  let vagueGap = false;
  let rewinds: Rewinds | undefined;
  observations.forEach((o, i) => {
    if (o.k === 'note') return;
    if (o.k === 'interrupted') return rewinds?.interrupted(o.by);
    if (o.k === 'violation') return fail(i, o.text);
    if (o.k === 'open') {
      if (pos === undefined) {
        pos = o.cursor;
        rewinds = new Rewinds(o.cursor);
      } else if (o.cursor !== pos) fail(i, `reconnected after ${o.cursor}, but its position was ${pos} (checker bug)`);
      return;
    }
    if (pos === undefined || rewinds === undefined) return fail(i, 'an observation before the first open (checker bug)');
    if (o.k === 'redelivery') {
      if (!rewinds.step(o.id)) fail(i, `event ${o.id} delivered again after ${pos} with no interruption that would resend it`);
      return;
    }
    if (o.k === 'event') {
      events++;
      rewinds.step(o.id);
      const vague = vagueGap;
      vagueGap = false;
      const known = model.event(o.id);
      if (delivered.has(o.id)) fail(i, `event ${o.id} delivered again (duplicate)`);
      else if (o.id <= pos) fail(i, `event ${o.id} delivered out of order, after position ${pos}`);
      if (!known) fail(i, `event ${o.id} is no event the webhooks committed`);
      else if (known.type !== o.type) fail(i, `event ${o.id} arrived as ${o.type}, committed as ${known.type}`);
      else if (!matches(known)) fail(i, `event ${o.id} (${known.type}) does not match the reader's filter`);
      delivered.add(o.id);
      if (o.id > pos) {
        const skipped = missed(pos, o.id).filter((e) => e.id !== o.id);
        const how = vague ? 'after a gap without a usable range, skipped' : 'silently skipped';
        if (skipped.length > 0) fail(i, `${how} ${describeMissed(skipped)} between ${pos} and ${o.id}`);
        pos = o.id;
      }
      return;
    }
    if (o.k === 'gap') {
      gaps++;
      if (o.after !== undefined && o.after !== pos) fail(i, `gap (${o.via}) after ${o.after}, but the reader's position was ${pos}`);
      vagueGap = true;
      if (o.resumedAt === undefined) return fail(i, `gap (${o.via}) that does not say where delivery resumed`);
      if (o.resumedAt !== LOG_START && !model.event(o.resumedAt)) fail(i, `gap (${o.via}) resumes at ${o.resumedAt}, no committed event`);
      if (!namesPositions) {
        const allowed = rewinds.step(o.resumedAt);
        if (o.resumedAt <= pos) {
          // The relay went back to its watermark and met the trim again: nothing new is missed.
          vagueGap = false;
          if (!allowed) fail(i, `gap (${o.via}) resuming at ${o.resumedAt}, at or before the reader's position ${pos}, with no interruption that would resend it`);
          else if (!model.isTrimmed(o.resumedAt, o.at)) fail(i, `gap (${o.via}) sent again up to ${o.resumedAt}, which retention had not removed`);
          return;
        }
      }
      if (o.resumedAt < pos) return fail(i, `gap (${o.via}) resuming at ${o.resumedAt}, before the reader's position ${pos}`);
      vagueGap = o.resumedAt === pos;
      const covered = model.between(pos, o.resumedAt);
      const kept = covered.filter((e) => !model.isTrimmed(e.id, o.at));
      if (o.resumedAt === pos) fail(i, `gap (${o.via}) that names no range: it resumes at the reader's own position ${pos}`);
      else if (covered.length === 0) fail(i, `false gap (${o.via}): nothing was committed in (${pos}, ${o.resumedAt}]`);
      else if (kept.length > 0) fail(i, `false gap (${o.via}) over (${pos}, ${o.resumedAt}]: ${kept.length} of its ${covered.length} events (${span(kept)}) were still retained`);
      pos = o.resumedAt;
      return;
    }
    // A position the relay named.
    if (o.cursor !== LOG_START && !model.event(o.cursor)) fail(i, `position ${o.cursor} (${o.via}) is no committed event`);
    if (o.cursor < pos) return fail(i, `position went back from ${pos} to ${o.cursor} (${o.via})`);
    const skipped = missed(pos, o.cursor);
    if (skipped.length > 0) fail(i, `position moved to ${o.cursor} (${o.via}) past ${describeMissed(skipped)} it never delivered`);
    pos = o.cursor;
  });
  const end = pos ?? LOG_START;
  const rest = missed(end, head);
  if (pos !== undefined && end < head && (namesPositions || rest.length > 0)) {
    fail(observations.length, `its position stopped at ${end}, the head is ${head}${rest.length > 0 ? `; never received ${describeMissed(rest)}` : ' (no matching event missing)'}`);
  }
  return { failures, events, gaps, position: end };
}
