import { type EventDetail, type EventPage, formatEventDetail, formatEvents } from './operator-format.js';
import { FILTER_FLAGS, FlagError, type Printed, type Request, type Subcommand, filterFlags, limitFlag, positionFlag } from './operator-spec.js';
import { isEventId, POSITION_HELP, positionText } from './position-flag.js';

/** `events list` and `events get`: finding events in the log (`GET /events`, `GET /events/:id`). */

/** Events per page with `--all` when `--limit` does not say: the most the relay gives at once. */
const ALL_PAGE = 500;

/** The query of `GET /events`: positions as ids or ISO times, lists comma-separated. */
export interface EventsQuery {
  after?: string;
  before?: string;
  types?: string[];
  sources?: string[];
  subjects?: string[];
  limit?: number;
}

/** `/events?…` for a query, leaving out what it does not set. */
export function eventsPath(query: EventsQuery): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined) params.set(name, Array.isArray(value) ? value.join(',') : String(value));
  }
  const text = params.toString();
  return text ? `/events?${text}` : '/events';
}

async function listPages(request: Request, query: EventsQuery, all: boolean): Promise<Printed> {
  const first = await request<EventPage>('GET', eventsPath(query));
  if (!all) {
    const notes = [
      first.body.truncated ? `the log no longer holds the events up to ${first.body.resumedAt}: listed from the oldest it holds` : '',
      first.body.nextCursor ? `more events follow: --after ${first.body.nextCursor}` : '',
    ].filter(Boolean);
    return { text: formatEvents(first.body.events), json: first.text, ...(notes.length ? { note: notes.join('\n') } : {}) };
  }
  const events = [...first.body.events];
  let cursor = first.body.nextCursor;
  while (cursor !== null) {
    const page = await request<EventPage>('GET', eventsPath({ ...query, after: cursor }));
    events.push(...page.body.events);
    cursor = page.body.nextCursor;
  }
  const { truncated, resumedAt } = first.body;
  const merged: EventPage = { events, nextCursor: null, truncated, ...(truncated ? { resumedAt } : {}) };
  return {
    text: formatEvents(events),
    json: JSON.stringify(merged),
    ...(truncated ? { note: `the log no longer holds the events up to ${resumedAt}: listed from the oldest it holds` } : {}),
  };
}

const list: Subcommand = {
  synopsis: 'events list [--after P] [--before P] [--types a,b] [--limit N] [--all]',
  summary: 'the log, oldest first, a page at a time',
  help: `The log, oldest first (GET /events): one line per event, with the time it was received
(local time), its type, subject, source and id. A page holds --limit events (the relay allows
1 to 500; default 50); when more follow, stderr says which --after reads on. --all reads on
to the end, in pages of ${ALL_PAGE} unless --limit says otherwise (--json then prints one answer
holding every event, nextCursor null).

  --after P        only events after P: after that event id, or committed from that time on
  --before P       only events before P (that id, or committed before that time)
  --types a,b      only these types; globs such as payment.*
  --sources a,b    only events from these sources
  --subjects a,b   only these subjects, e.g. customer:cus_123
  --limit N        events per page
  --all            every page, not just the first

${POSITION_HELP}`,
  flags: { after: { type: 'string' }, before: { type: 'string' }, ...FILTER_FLAGS, limit: { type: 'string' }, all: { type: 'boolean' } },
  args: [],
  run: async ({ flags, now }, request) => {
    const after = positionFlag(flags, 'after', now);
    const before = positionFlag(flags, 'before', now);
    const all = flags.all === true;
    const query: EventsQuery = {
      ...(after && { after: positionText(after) }),
      ...(before && { before: positionText(before) }),
      ...filterFlags(flags),
      limit: limitFlag(flags) ?? (all ? ALL_PAGE : undefined),
    };
    return listPages(request, query, all);
  },
};

const get: Subcommand = {
  synopsis: 'events get <id>',
  summary: 'one event, and where it stands in each consumer group and webhook subscription',
  help: `One event (GET /events/<id>): its fields and data; then its state in each consumer group
you may see (pending, leased, acked, dead; delivery count, lease expiry, when it was
dead-lettered), and in each of your webhook subscriptions that match it (done, in_flight with
its attempts and the next one, pending).`,
  flags: {},
  args: ['id'],
  run: async ({ args }, request) => {
    const id = args[0]!;
    if (!isEventId(id)) throw new FlagError(`<id> is an event id (a 26-character ULID), not "${id.slice(0, 40)}"`);
    const answer = await request<EventDetail>('GET', `/events/${id}`);
    return { text: formatEventDetail(answer.body), json: answer.text };
  },
};

/** The `events` command's subcommands. */
export const EVENTS_SUBCOMMANDS: Record<string, Subcommand> = { list, get };
