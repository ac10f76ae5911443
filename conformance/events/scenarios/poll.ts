/** `events/poll`: start from now, occurrences, paging with `maxEvents` / `hasMore`, `nextPollMs`, the cursor's advance. */
import { DRAFT, type Json, type PollResult, type Rule, type Scenario, collect, isObject, poll, show } from '../suite.js';

const resultShape: Rule = {
  id: 'poll-result-shape',
  level: 'must',
  quote: 'Server-->>SDK: {events[], cursor, truncated, hasMore, nextPollMs}',
  source: DRAFT,
};
const nullCursor: Rule = {
  id: 'poll-null-cursor-is-now',
  level: 'must',
  quote: 'In the request, `null` means "start from now" — the server returns no events and provides a fresh cursor for subsequent polls.',
  source: DRAFT,
};
const absentCursor: Rule = {
  id: 'poll-absent-cursor-is-null',
  level: 'must',
  quote: 'An absent `cursor` field MUST be treated identically to an explicit `cursor: null` ... a receiver MUST NOT fail because it is missing.',
  source: DRAFT,
};
const occurrence: Rule = {
  id: 'poll-occurrence-shape',
  level: 'must',
  quote: 'EventOccurrence: `eventId` string (required), `name` string (required), `timestamp` string ISO 8601 (required), `data` object (required), `cursor` string | null, `_meta` object.',
  source: DRAFT,
};
const replays: Rule = {
  id: 'poll-replays-from-cursor',
  level: 'must',
  quote: 'The client persists the cursor it receives and passes it back on the next poll/reconnect/refresh; the server resumes from there.',
  source: DRAFT,
};
const hasMoreTrue: Rule = {
  id: 'poll-has-more-when-capped',
  level: 'must',
  quote: 'If more events are available than the limit, the server returns a partial batch with an intermediate cursor and sets `hasMore: true`.',
  source: DRAFT,
};
const hasMoreFalse: Rule = {
  id: 'poll-has-more-false-when-drained',
  level: 'must',
  quote: '`hasMore` indicates whether additional events are available beyond the returned batch.',
  source: DRAFT,
};
const ordered: Rule = {
  id: 'poll-order-no-duplicates',
  level: 'must',
  quote: 'for poll and push, events within a single subscription are delivered in the order the server produces them.',
  source: DRAFT,
};
const nextPollMs: Rule = {
  id: 'poll-next-poll-ms',
  level: 'must',
  quote: '`nextPollMs` allows the server to dynamically adjust polling frequency ... Clients MUST wait `nextPollMs` before issuing the next `events/poll`.',
  source: DRAFT,
};
const emptyAdvances: Rule = {
  id: 'poll-empty-carries-cursor',
  level: 'must',
  quote: 'Poll covers this inherently (every response carries `cursor`, including when `events: []`).',
  source: DRAFT,
};

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

export function occurrenceProblem(event: Json, name: string): string | undefined {
  if (typeof event.eventId !== 'string' || event.eventId === '') return `eventId ${show(event.eventId)}`;
  if (event.name !== name) return `name ${show(event.name)}, subscribed to ${show(name)}`;
  if (typeof event.timestamp !== 'string' || !ISO_8601.test(event.timestamp) || Number.isNaN(Date.parse(event.timestamp))) return `timestamp ${show(event.timestamp)}`;
  if (!isObject(event.data)) return `data ${show(event.data)}`;
  if (event.cursor !== undefined && event.cursor !== null && typeof event.cursor !== 'string') return `cursor ${show(event.cursor)}`;
  if (event._meta !== undefined && !isObject(event._meta)) return `_meta ${show(event._meta)}`;
  return undefined;
}

export function shapeProblem(result: PollResult): string | undefined {
  const raw = result.raw;
  if (raw.cursor !== undefined && raw.cursor !== null && typeof raw.cursor !== 'string') return `cursor ${show(raw.cursor)}`;
  if (typeof raw.hasMore !== 'boolean') return `hasMore ${show(raw.hasMore)}`;
  if (typeof raw.truncated !== 'boolean') return `truncated ${show(raw.truncated)}`;
  if (!Number.isInteger(raw.nextPollMs) || (raw.nextPollMs as number) < 0) return `nextPollMs ${show(raw.nextPollMs)}`;
  return undefined;
}

export const pollScenario: Scenario = {
  name: 'poll',
  title: 'events/poll: cursor, occurrences, paging',
  rules: [resultShape, nullCursor, absentCursor, occurrence, replays, hasMoreTrue, hasMoreFalse, ordered, nextPollMs, emptyAdvances],
  async run(context, report) {
    const needsTrigger = [occurrence, replays, hasMoreTrue, hasMoreFalse, ordered];
    if (context.canTrigger) await context.trigger(); // so that "now" has something before it
    const start = await poll(context, null);
    report.check(nullCursor, start.result.events.length === 0, `a poll with cursor null returned ${start.result.events.length} events`);
    const absent = await context.connection.request('events/poll', { name: context.subscription.name, ...(context.subscription.arguments ? { arguments: context.subscription.arguments } : {}) });
    const absentEvents = absent.message?.result?.events;
    report.check(absentCursor, Array.isArray(absentEvents) && absentEvents.length === 0, `HTTP ${absent.status}: ${show(absent.message?.error ?? absent.message?.result)}`);

    const seen: PollResult[] = [start.result];
    if (!context.canTrigger) {
      for (const rule of needsTrigger) report.skip(rule, 'needs --trigger to make the server produce events');
    } else {
      for (let i = 0; i < 3; i++) await context.trigger();
      const pages: PollResult[] = [];
      let cursor = start.result.cursor;
      for (let i = 0; i < 3; i++) {
        const { result } = await poll(context, cursor, { maxEvents: 1 });
        pages.push(result);
        cursor = result.cursor;
      }
      seen.push(...pages);
      const events = pages.flatMap((p) => p.events);
      report.check(replays, events.length === 3, `three triggered events, then three polls with maxEvents 1 from the start cursor returned ${events.length}: ${show(pages.map((p) => p.events.length))}`);
      const bad = events.map((e) => occurrenceProblem(e, context.subscription.name)).find((p) => p !== undefined);
      report.check(occurrence, events.length > 0 && bad === undefined, bad ?? 'no events to look at');
      report.check(
        hasMoreTrue,
        pages[0]!.events.length === 1 && pages[0]!.hasMore && pages[1]!.hasMore && pages[0]!.cursor !== start.result.cursor,
        `pages (maxEvents 1, 3 events available): ${show(pages.map((p) => ({ n: p.events.length, hasMore: p.hasMore, cursor: p.cursor })))}`,
      );
      const after = await poll(context, cursor);
      seen.push(after.result);
      report.check(
        hasMoreFalse,
        pages[2]!.events.length === 1 && !pages[2]!.hasMore && after.result.events.length === 0 && !after.result.hasMore,
        `the page with the last event: hasMore ${pages[2]!.hasMore}; the poll after it: ${after.result.events.length} events, hasMore ${after.result.hasMore}`,
      );
      // Order: polling the same range in one page must give the same events in the same order.
      const whole = await collect(context, start.result.cursor, 3, 5000, { maxEvents: 10 });
      const ids = (list: Json[]) => list.map((e) => e.eventId);
      report.check(
        ordered,
        new Set(ids(events)).size === 3 && show(ids(whole.events.slice(0, 3))) === show(ids(events)),
        `paged: ${show(ids(events))}; in one page: ${show(ids(whole.events))}`,
      );
    }
    const empty = await poll(context, seen[seen.length - 1]!.cursor);
    seen.push(empty.result);
    // A type that replays (it handed out a cursor) hands one out on an empty answer too.
    const replaysCursor = seen.slice(0, -1).some((r) => typeof r.raw.cursor === 'string');
    report.check(emptyAdvances, empty.result.events.length > 0 || !replaysCursor || typeof empty.result.raw.cursor === 'string', `empty answer: ${show(empty.result.raw)}`);
    const shape = seen.map(shapeProblem).find((p) => p !== undefined);
    report.check(resultShape, shape === undefined, shape ?? '');
    const waits = seen.filter((r) => !Number.isInteger(r.nextPollMs) || r.nextPollMs < 0);
    report.check(nextPollMs, waits.length === 0, `nextPollMs values: ${show(seen.map((r) => r.raw.nextPollMs))}`);
  },
};
