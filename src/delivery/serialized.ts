import type { Event } from '../events/event.js';
import type { SerializedEvent } from '../log/event-log.js';

/**
 * A committed event in the form readers take stored ones: routable fields, and its JSON made
 * on first use. One per event, cached, so a commit fanned out to a thousand readers is
 * serialized once (and not at all when no reader writes it out).
 */
class LiveEvent implements SerializedEvent {
  readonly id: string;
  readonly type: string;
  readonly source: string;
  readonly subject: string | undefined;
  #json: string | undefined;

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

const serialized = new WeakMap<Event, SerializedEvent>();

/** The shared {@link SerializedEvent} of a committed event. */
export function serializedOf(event: Event): SerializedEvent {
  let entry = serialized.get(event);
  if (entry === undefined) {
    entry = new LiveEvent(event);
    serialized.set(event, entry);
  }
  return entry;
}
