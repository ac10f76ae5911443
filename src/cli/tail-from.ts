import type { Event } from '../events/event.js';
import { LOG_START } from '../events/ulid.js';
import { apiRequest, relayBase } from './operator-api.js';
import { eventsPath } from './operator-events.js';
import type { EventPage } from './operator-format.js';
import type { TailSettings } from './tail-format.js';

/** Where `tail --from` starts: the cursor to follow after, and the event to print before following, if any. */
export interface TailStart {
  cursor: string;
  first: Event | undefined;
}

/**
 * Where `tail --from` starts; undefined without `--from` (the client then starts from now).
 * After an event id: that id is the cursor. From a time: the first event committed from then
 * on that passes tail's `--types`, found through the operator API
 * (`GET /events?after=<time>&types=…&limit=1`), is printed and followed after; when there is
 * none yet, tail follows after the head that `GET /healthz` reported before that question, so
 * nothing committed in between is missed (`LOG_START` on a log that never held an event).
 */
export async function tailStart(settings: Pick<TailSettings, 'url' | 'token' | 'from' | 'types'>): Promise<TailStart | undefined> {
  const { from } = settings;
  if (from === undefined) return undefined;
  if ('id' in from) return { cursor: from.id, first: undefined };
  const access = { base: relayBase(settings.url), token: settings.token };
  const health = await apiRequest<{ head: string | null }>(access, 'GET', '/healthz');
  const page = await apiRequest<EventPage>(access, 'GET', eventsPath({ after: from.time, types: settings.types, limit: 1 }));
  const first = page.body.events[0];
  return first ? { cursor: first.id, first } : { cursor: health.body.head ?? LOG_START, first: undefined };
}
