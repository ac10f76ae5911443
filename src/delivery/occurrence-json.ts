import type { Event } from '../events/event.js';
import { topLevelStrings } from '../events/stored-json.js';
import type { SerializedEvent } from '../log/event-log.js';

const FIELDS = ['occurredAt'] as const;

/**
 * An Events occurrence of a stored event as JSON text, open at the end —
 * `{"eventId":…,"name":…,"timestamp":…,"data":…,"cursor":…` — so a push frame can add its
 * `_meta` and a webhook body its closing brace. The stored JSON goes out as it is;
 * `occurredAt` is copied out of its text as a JSON literal — decoding a 1–2 KB event only to
 * copy one string (and encoding it again) would cost more than the rest of a replay. The
 * `eventId` is the log id: unique across sources (an upstream id is unique only within its
 * source) and the same on every redelivery.
 */
export function occurrenceHead(name: string, event: SerializedEvent): string {
  const { json } = event;
  const fields = topLevelStrings(json, FIELDS) ?? { occurredAt: JSON.stringify((JSON.parse(json) as Event).occurredAt) };
  return `{"eventId":"${event.id}","name":${JSON.stringify(name)},"timestamp":${fields.occurredAt},"data":${json},"cursor":"${event.id}"`;
}
