/** `events/stream`: SSE, `active` first, events, heartbeats, the subscription id on every notification, resume by cursor. */
import { DRAFT, type Json, type Rule, type Scenario, isObject, show, subscriptionParams } from '../suite.js';
import type { OpenStream, RpcMessage } from '../wire.js';
import { META } from '../wire.js';
import { occurrenceProblem } from './poll.js';

const WAIT_MS = 10_000;

const sse: Rule = {
  id: 'stream-sse',
  level: 'must',
  quote: 'Streamable HTTP: The `events/stream` request is a POST that returns an SSE response stream.',
  source: DRAFT,
};
const activeFirst: Rule = {
  id: 'stream-active-first',
  level: 'must',
  quote: 'Otherwise the server confirms the subscription and delivers events as notifications. // Confirmation {"method":"notifications/events/active","params":{"cursor":…,"truncated":false,…}}',
  source: DRAFT,
};
const subscriptionId: Rule = {
  id: 'stream-subscription-id',
  level: 'must',
  quote: 'Every `notifications/events/*` message carries the JSON-RPC `id` of the parent `events/stream` request in `params._meta["io.modelcontextprotocol/subscriptionId"]`.',
  source: DRAFT,
};
const events: Rule = {
  id: 'stream-events',
  level: 'must',
  quote: 'Events as they occur: notifications/events/event {eventId, name, timestamp, data, cursor, _meta.subscriptionId}. Each event notification on the push stream includes a `cursor` field.',
  source: DRAFT,
};
const onlyEvents: Rule = {
  id: 'stream-carries-only-events',
  level: 'must',
  quote: 'The `events/stream` response carries only `notifications/events/*` messages.',
  source: DRAFT,
};
const heartbeat: Rule = {
  id: 'stream-heartbeat',
  level: 'must',
  quote: 'The server MUST send periodic keepalive messages on the push stream ... On Streamable HTTP this is sent as an SSE `data:` frame ... The server SHOULD send a heartbeat at least every 30 seconds.',
  source: DRAFT,
};
const resumeEvent: Rule = {
  id: 'stream-resume-from-event-cursor',
  level: 'must',
  quote: 'Reconnection after failure. If the connection drops (HTTP) ..., the client sends a new `events/stream` with the same subscription and its last-known cursor.',
  source: DRAFT,
};
const resumeHeartbeat: Rule = {
  id: 'stream-resume-from-heartbeat-cursor',
  level: 'must',
  quote: '`cursor` is the position the server has checked up to, so the client\'s persisted cursor advances even when no events match.',
  source: DRAFT,
};
const errorShape: Rule = {
  id: 'stream-error-terminated-shape',
  level: 'must',
  quote: '`notifications/events/terminated` has the shape `{error: {code: integer, message: string, data?: object}, _meta: {...subscriptionId}}` — identical to `notifications/events/error`.',
  source: DRAFT,
};

const isEvent = (m: RpcMessage) => m.method === 'notifications/events/event';
const idsOf = (messages: RpcMessage[]) => messages.filter(isEvent).map((m) => m.params?.eventId);

export const stream: Scenario = {
  name: 'stream',
  title: 'events/stream: active, events, heartbeat, subscriptionId, resume',
  rules: [sse, activeFirst, subscriptionId, events, onlyEvents, heartbeat, resumeEvent, resumeHeartbeat, errorShape],
  async run(context, report) {
    const opened: OpenStream[] = [];
    const open = async (cursor: string | null) => {
      const s = await context.connection.openStream('events/stream', subscriptionParams(context.subscription, { cursor }));
      opened.push(s);
      return s;
    };
    try {
      const first = await open(null);
      report.check(sse, first.status === 200 && first.contentType.includes('text/event-stream'), `HTTP ${first.status}, content-type ${first.contentType}: ${show(first.messages.items[0])}`);
      const active = await first.messages.waitFor(() => true, WAIT_MS);
      report.check(
        activeFirst,
        active?.method === 'notifications/events/active' && active.params?.truncated === false && 'cursor' in (active.params ?? {}),
        `first message: ${show(active)}`,
      );

      let eventCursor: string | null | undefined;
      if (!context.canTrigger) {
        for (const rule of [events, resumeEvent, resumeHeartbeat]) report.skip(rule, 'needs --trigger to make the server produce events');
      } else {
        const from = first.messages.items.length;
        await context.trigger();
        await context.trigger();
        await first.messages.waitFor(() => first.messages.items.slice(from).filter(isEvent).length >= 2, WAIT_MS);
        const got = first.messages.items.filter(isEvent).map((m) => m.params as Json);
        const bad = got.map((e) => occurrenceProblem(e, context.subscription.name) ?? (typeof e.cursor === 'string' || e.cursor === null ? undefined : `cursor ${show(e.cursor)}`)).find(Boolean);
        report.check(events, got.length === 2 && new Set(got.map((e) => e.eventId)).size === 2 && bad === undefined, bad ?? `events after two triggers: ${show(got.map((e) => e.eventId))}`);
        eventCursor = got[0]?.cursor as string | null | undefined;
      }

      const beats = first.messages.items.length;
      const beat = await first.messages.waitFor((m) => m.method === 'notifications/events/heartbeat', context.options.heartbeatWithinMs, beats);
      report.check(heartbeat, beat !== undefined && 'cursor' in (beat.params ?? {}), `no heartbeat with a cursor within ${context.options.heartbeatWithinMs} ms (${show(beat)}); the stream${first.messages.ended ? ' ended and' : ''} sent ${show(first.messages.items.map((m) => m.method ?? 'result'))}`);
      first.close();

      if (context.canTrigger && typeof eventCursor === 'string') {
        const before = idsOf(first.messages.items);
        await context.trigger(); // E3, while no stream is open
        const second = await open(eventCursor);
        await second.messages.waitFor(() => idsOf(second.messages.items).length >= 2, WAIT_MS);
        await second.messages.waitFor(() => false, 300); // nothing more should come
        second.close();
        const resumed = idsOf(second.messages.items);
        report.check(
          resumeEvent,
          resumed.length === 2 && resumed[0] === before[1] && !resumed.includes(before[0]),
          `first stream: ${show(before)}; resumed from the first event's cursor: ${show(resumed)} (expected the second, then the one made while closed)`,
        );
        const hb = beat?.params?.cursor;
        if (typeof hb !== 'string') report.skip(resumeHeartbeat, `the heartbeat cursor is ${show(hb)}`);
        else {
          await context.trigger(); // E4
          const third = await open(hb);
          await third.messages.waitFor(() => idsOf(third.messages.items).length >= 2, WAIT_MS);
          await third.messages.waitFor(() => false, 300);
          third.close();
          const fromBeat = idsOf(third.messages.items);
          report.check(
            resumeHeartbeat,
            fromBeat.length === 2 && fromBeat[0] === resumed[1] && !before.some((id) => fromBeat.includes(id)),
            `resumed from a heartbeat sent after ${show(before)}: ${show(fromBeat)} (expected ${show(resumed[1])}, made while no stream was open, then the newest)`,
          );
        }
      } else if (context.canTrigger) {
        report.skip(resumeEvent, `the event cursor is ${show(eventCursor)} (no replay)`);
        report.skip(resumeHeartbeat, 'the event type does not replay');
      }

      const all = opened.flatMap((s) => s.messages.items.map((m) => ({ m, id: s.requestId })));
      const notes = all.filter(({ m }) => m.method !== undefined);
      const wrongId = notes.filter(({ m, id }) => (m.params?._meta as Json | undefined)?.[META.subscriptionId] !== id);
      report.check(subscriptionId, notes.length > 0 && wrongId.length === 0, `without the request id: ${show(wrongId.slice(0, 3).map(({ m, id }) => ({ method: m.method, _meta: m.params?._meta, requestId: id })))}`);
      const foreign = all.filter(({ m }) => (m.method !== undefined && !m.method.startsWith('notifications/events/')) || (m.method === undefined && m.id === undefined));
      report.check(onlyEvents, foreign.length === 0, `other messages on the stream: ${show(foreign.map(({ m }) => m))}`);
      const failures = notes.filter(({ m }) => m.method === 'notifications/events/error' || m.method === 'notifications/events/terminated');
      if (failures.length === 0) report.skip(errorShape, 'no notifications/events/error or terminated was sent');
      else {
        const bad = failures.filter(({ m }) => {
          const error = m.params?.error as Json | undefined;
          return !isObject(error) || !Number.isInteger(error.code) || typeof error.message !== 'string' || (error.data !== undefined && !isObject(error.data));
        });
        report.check(errorShape, bad.length === 0, show(bad.map(({ m }) => m)));
      }
    } finally {
      for (const s of opened) s.close();
    }
  },
};
