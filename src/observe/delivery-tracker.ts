import { ulidTime } from '../events/ulid.js';

/**
 * A live push frame can be written before the webhook route reports the append (the log
 * notifies followers inside the commit): such early deliveries of just-minted ids are held
 * briefly, a bounded few, for {@link DeliveryTracker.accepted} to find.
 */
const EARLY_MAX = 1024;
const EARLY_AGE_MS = 5000;

/** An accepted webhook event the tracker follows until its drop deadline. */
export interface TrackedEvent {
  /** Bounded label values: a configured source, a catalogue type or `other`. */
  source: string;
  type: string;
  receivedAt: number;
  deadline: number;
  processed: boolean;
  acked: boolean;
}

/** Where the tracker reports what happened to each event. */
export interface DeliverySink {
  /** First delivery to an agent (or an ack before any delivery was seen). */
  processed(event: TrackedEvent, latencyMs: number, t: number): void;
  /** First ack by an agent. */
  acked(event: TrackedEvent, latencyMs: number, t: number): void;
  /** The deadline passed: `dropped` when the event was neither delivered nor acked. */
  due(event: TrackedEvent, dropped: boolean): void;
  /** An accepted event was not tracked because the tracker was full. */
  overflow(): void;
}

export interface DeliveryTrackerOptions {
  deadlineMs: number;
  /** Events followed at once; beyond this, accepted events are counted as overflow, not tracked. */
  maxTracked: number;
  sink: DeliverySink;
  now: () => number;
}

/**
 * Follows each event a webhook accepted (not duplicates) until its drop deadline: it is
 * processed once an agent was handed it (a push frame written, an `events/poll` answer, a
 * claim through `check_pending_events`) or acked it, and dropped when neither happened in
 * time. Internal consumers (the reactions) read the log directly and are never reported
 * here. State is in process: in a multi-instance deployment each instance sees only the
 * deliveries it made itself.
 */
export class DeliveryTracker {
  /** In receipt order, so deadlines come due from the front. */
  readonly #events = new Map<string, TrackedEvent>();
  /** Id → when it was first delivered, for ids delivered before they were reported accepted. */
  readonly #early = new Map<string, number>();

  constructor(private readonly options: DeliveryTrackerOptions) {}

  get size(): number {
    return this.#events.size;
  }

  accepted(id: string, source: string, type: string, receivedAt: number): void {
    if (this.#events.size >= this.options.maxTracked) {
      this.options.sink.overflow();
      return;
    }
    const event: TrackedEvent = { source, type, receivedAt, deadline: receivedAt + this.options.deadlineMs, processed: false, acked: false };
    this.#events.set(id, event);
    const deliveredAt = this.#early.get(id);
    if (deliveredAt !== undefined) {
      this.#early.delete(id);
      this.#process(event, deliveredAt);
    }
  }

  /** An agent was handed the event. */
  delivered(id: string): void {
    const event = this.#events.get(id);
    if (event) {
      if (!event.processed) this.#process(event, this.options.now());
      return;
    }
    const now = this.options.now();
    if (this.#early.has(id) || ulidTime(id) < now - EARLY_AGE_MS) return;
    if (this.#early.size >= EARLY_MAX) this.#early.delete(this.#early.keys().next().value!);
    this.#early.set(id, now);
  }

  /** An agent acknowledged the event. */
  acked(id: string): void {
    const event = this.#events.get(id);
    if (!event || event.acked) return;
    const t = this.options.now();
    if (!event.processed) this.#process(event, t);
    event.acked = true;
    this.options.sink.acked(event, Math.max(0, t - event.receivedAt), t);
  }

  /** Settles every event whose deadline has passed; returns how many. */
  sweep(): number {
    const now = this.options.now();
    let settled = 0;
    for (const [id, event] of this.#events) {
      if (event.deadline > now) break;
      this.#events.delete(id);
      this.options.sink.due(event, !event.processed);
      settled++;
    }
    return settled;
  }

  #process(event: TrackedEvent, t: number): void {
    event.processed = true;
    this.options.sink.processed(event, Math.max(0, t - event.receivedAt), t);
  }
}
