import type { Event } from '../events/event.js';
import type { SerializedEvent } from '../log/event-log.js';

/**
 * A committed event in the form readers take stored ones: routable fields, and its JSON made
 * on first use. One per event, shared by every reader of its commit, so a commit fanned out
 * to a thousand readers is serialized once (and not at all when no reader writes it out);
 * the frames encoded from it are kept on it for the same reason (see {@link liveFrames}).
 */
class LiveEvent implements SerializedEvent {
  readonly id: string;
  readonly type: string;
  readonly source: string;
  readonly subject: string | undefined;
  #json: string | undefined;
  /** Encoded frames, by what they depend on beside the event (a stream's id prefix and name). */
  readonly frames = new Map<string, Buffer>();

  constructor(private readonly event: Event) {
    this.id = event.id;
    this.type = event.type;
    this.source = event.source;
    this.subject = event.subject;
  }

  get json(): string {
    this.#json ??= JSON.stringify(this.event);
    return this.#json;
  }
}

/**
 * The commit whose events were last serialized, and their shared forms. Every follower gets
 * the same batch in turn, so one entry serves a whole fan-out; nothing outlives the next
 * commit (a map keyed by event would keep each event's frames in the old generation until a
 * full collection).
 */
let lastEvents: readonly Event[] | undefined;
let lastSerialized: (LiveEvent | undefined)[] = [];

/** The shared {@link SerializedEvent} of event `i` of a commit's `events`. */
export function serializedAt(events: readonly Event[], i: number): SerializedEvent {
  if (events !== lastEvents) {
    lastEvents = events;
    lastSerialized = new Array<LiveEvent | undefined>(events.length);
  }
  return (lastSerialized[i] ??= new LiveEvent(events[i]!));
}

/** Where a live event's encoded frames are kept, shared by the streams writing it; stored events have none. */
export function liveFrames(event: SerializedEvent): Map<string, Buffer> | undefined {
  return event instanceof LiveEvent ? event.frames : undefined;
}
