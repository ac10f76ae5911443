/** Gaps and bounded replay: `truncated` for a cursor the server cannot serve, and the `maxAgeMs` floor, in poll and push. */
import { DRAFT, type Context, type Json, type PollResult, type Rule, type Scenario, collect, headCursor, isObject, poll, show, sleep } from '../suite.js';

const stale: Rule = {
  id: 'truncated-stale-cursor',
  level: 'must',
  quote:
    'In all cases the server resets to a position it can serve from, returns that position as the fresh `cursor` alongside `truncated: true`, and continues. | Poll | The result body: {events:[], cursor:<fresh>, truncated:true, hasMore, nextPollMs}. Never a JSON-RPC error.',
  source: DRAFT,
};
const continues: Rule = {
  id: 'truncated-delivery-continues',
  level: 'must',
  quote: '... and continues — the client never reconnects or re-subscribes in response.',
  source: DRAFT,
};
const staleStream: Rule = {
  id: 'truncated-stream-active',
  level: 'must',
  quote: '| Push | A `notifications/events/active {cursor:<fresh>, truncated:true, _meta.subscriptionId}` is sent (initially, and again mid-stream if a gap occurs); delivery continues on the same stream.',
  source: DRAFT,
};
const unknown: Rule = {
  id: 'truncated-unknown-cursor',
  level: 'must',
  quote: '`truncated: true` is the single signal that the server started delivery from a position later than the cursor the client supplied — i.e., events were skipped.',
  source: DRAFT,
};
const floor: Rule = {
  id: 'max-age-floor',
  level: 'must',
  quote: 'When present, the server begins replay from whichever is *later*: the supplied `cursor`, or `now − maxAgeMs`.',
  source: DRAFT,
};
const floorTruncated: Rule = {
  id: 'max-age-truncated',
  level: 'should',
  quote: 'If the floor advances past the cursor, the server SHOULD set `truncated: true` on the first response (poll result / `notifications/events/active` / webhook subscribe response) so the client knows older events were skipped.',
  source: DRAFT,
};
const young: Rule = {
  id: 'max-age-keeps-younger-events',
  level: 'must',
  quote: '"maxAgeMs": 300000, // optional; do not replay events older than this many milliseconds — and `truncated: true` is the single signal that ... events were skipped.',
  source: DRAFT,
};
const floorStream: Rule = {
  id: 'max-age-stream',
  level: 'should',
  quote: 'All three modes accept an optional `maxAgeMs` ... If the floor advances past the cursor, the server SHOULD set `truncated: true` on the first response (... `notifications/events/active` ...).',
  source: DRAFT,
};
const nullIgnores: Rule = {
  id: 'max-age-ignored-for-null-cursor',
  level: 'must',
  quote: '`maxAgeMs` is ignored when `cursor` is `null` (null already means "now" ...).',
  source: DRAFT,
};

/** Polls from `cursor` with `extra` while `hasMore` (at most 20 pages). */
async function drain(context: Context, cursor: string | null, extra: Json): Promise<PollResult[]> {
  const pages: PollResult[] = [];
  let at = cursor;
  for (let i = 0; i < 20; i++) {
    const { result } = await poll(context, at, extra);
    pages.push(result);
    at = result.cursor;
    if (!result.hasMore) break;
  }
  return pages;
}

/** The first `active` of a stream opened from `cursor`, and the events that came within `ms`. */
async function streamFrom(context: Context, cursor: string | null, extra: Json, ms: number): Promise<{ active: Json | undefined; events: Json[]; error?: unknown }> {
  const stream = await context.connection.openStream('events/stream', { name: context.subscription.name, ...(context.subscription.arguments ? { arguments: context.subscription.arguments } : {}), cursor, ...extra });
  try {
    const active = await stream.messages.waitFor((m) => m.method === 'notifications/events/active' || m.error !== undefined, 10_000);
    if (active?.error) return { active: undefined, events: [], error: active.error };
    await stream.messages.waitFor(() => false, ms);
    const events = stream.messages.items.filter((m) => m.method === 'notifications/events/event').map((m) => m.params as Json);
    return { active: active?.params, events };
  } finally {
    stream.close();
  }
}

export const replay: Scenario = {
  name: 'replay',
  title: 'truncated and maxAgeMs',
  rules: [stale, continues, staleStream, unknown, floor, floorTruncated, young, floorStream, nullIgnores],
  async run(context, report) {
    const staleCursor = context.options.staleCursor;
    if (staleCursor === undefined) {
      for (const rule of [stale, continues, staleStream]) report.skip(rule, 'needs --stale-cursor (a cursor the server can no longer serve from)');
    } else {
      const reply = await context.connection.request('events/poll', { name: context.subscription.name, ...(context.subscription.arguments ? { arguments: context.subscription.arguments } : {}), cursor: staleCursor });
      const result = reply.message?.result;
      const fresh = result?.cursor;
      report.check(stale, result?.truncated === true && fresh !== staleCursor && Array.isArray(result.events), `HTTP ${reply.status}: ${show(reply.message?.error ?? result)}`);
      if (!context.canTrigger || result === undefined) report.skip(continues, context.canTrigger ? 'the stale poll failed' : 'needs --trigger');
      else {
        const start = (await drain(context, (fresh as string | null) ?? null, {})).at(-1)!.cursor;
        await context.trigger();
        const got = await collect(context, start, 1);
        report.check(continues, got.events.length === 1, `after the gap, a new event: polling on from the fresh cursor got ${got.events.length}`);
      }
      const pushed = await streamFrom(context, staleCursor, {}, 0);
      report.check(staleStream, pushed.active?.truncated === true && typeof pushed.active.cursor !== 'undefined' && pushed.active.cursor !== staleCursor, `first active: ${show(pushed.active ?? pushed.error)}`);
    }

    const made = 'events-conformance-cursor-never-issued';
    const unknownReply = await context.connection.request('events/poll', { name: context.subscription.name, ...(context.subscription.arguments ? { arguments: context.subscription.arguments } : {}), cursor: made });
    const u = unknownReply.message;
    report.check(
      unknown,
      u?.error?.code === -32602 || (u?.result?.truncated === true && u.result.cursor !== made),
      `a cursor the server never issued: HTTP ${unknownReply.status} ${show(u?.error ?? u?.result)} (expected -32602, or truncated: true with a fresh cursor)`,
    );

    const nullReply = await poll(context, null, { maxAgeMs: 1 });
    report.check(nullIgnores, nullReply.result.events.length === 0 && !nullReply.result.truncated, `cursor null, maxAgeMs 1: ${show(nullReply.result.raw)}`);

    if (!context.canTrigger) {
      for (const rule of [floor, floorTruncated, young, floorStream]) report.skip(rule, 'needs --trigger to make the server produce events');
      return;
    }
    // A (old), then 2 s later B (young): a floor 1 s before B lies between them.
    const c0 = await headCursor(context);
    await context.trigger();
    await sleep(2000);
    const beforeB = Date.now();
    await context.trigger();
    const all = await collect(context, c0, 2);
    const [a, b] = all.events.map((e) => e.eventId);
    const floorAge = () => Date.now() - beforeB + 1000;

    const pages = await drain(context, c0, { maxAgeMs: floorAge() });
    const replayed = pages.flatMap((p) => p.events).map((e) => e.eventId);
    report.check(floor, a !== undefined && !replayed.includes(a), `events A=${a} (2 s older than the floor) and B=${b}; replayed with the floor: ${show(replayed)}`);
    report.check(floorTruncated, pages[0]?.truncated === true, `first answer with the floor past the cursor: ${show(pages[0]?.raw)}`);

    const kept = await drain(context, c0, { maxAgeMs: 3_600_000 });
    const keptIds = kept.flatMap((p) => p.events).map((e) => e.eventId);
    report.check(young, keptIds.includes(a) && keptIds.includes(b) && kept.every((p) => !p.truncated), `maxAgeMs 1 h: ${show(keptIds)}, truncated ${show(kept.map((p) => p.truncated))}`);

    const pushed = await streamFrom(context, c0, { maxAgeMs: floorAge() }, 1000);
    const pushedIds = pushed.events.map((e) => e.eventId);
    report.check(
      floorStream,
      isObject(pushed.active) && pushed.active.truncated === true && a !== undefined && !pushedIds.includes(a),
      `stream with the floor past the cursor: first active ${show(pushed.active ?? pushed.error)}, events ${show(pushedIds)}`,
    );
  },
};
