/** Error codes and their `data`: NotFound, InvalidParams, ResourceExhausted; a refused stream is an immediate error, never a stream. */
import { DRAFT, type Json, type Rule, type Scenario, describeReply, isObject, show, subscriptionParams } from '../suite.js';
import type { OpenStream } from '../wire.js';

/** An event name no server has. */
export const NO_SUCH_TYPE = 'events-conformance.no-such-type';

const notFoundPoll: Rule = {
  id: 'error-not-found-poll',
  level: 'must',
  quote: '-32011 NotFound: A referenced entity does not exist — an unknown event name ... `data.kind` ("event" | "subscription") MAY disambiguate.',
  source: DRAFT,
};
const notFoundStream: Rule = {
  id: 'error-not-found-stream',
  level: 'must',
  quote: 'If the subscription is invalid (`NotFound`, `Forbidden`, `InvalidParams`, `Unsupported`), the server responds immediately with a JSON-RPC error and no stream is opened.',
  source: DRAFT,
};
const badArguments: Rule = {
  id: 'error-invalid-arguments',
  level: 'must',
  quote: '-32602 InvalidParams: Request is statically invalid — arguments don\'t match the event\'s inputSchema ...',
  source: DRAFT,
};
const badParams: Rule = {
  id: 'error-invalid-params',
  level: 'must',
  quote: '-32602 InvalidParams: Request is statically invalid ... (standard JSON-RPC invalid params).',
  source: DRAFT,
};
const unsupportedMode: Rule = {
  id: 'error-unsupported-delivery-mode',
  level: 'must',
  quote: '-32014 Unsupported: The request is well-formed but a requested capability or option is not supported here — e.g. a delivery mode the event type does not offer. `data` identifies it (e.g. `{ "feature": "deliveryMode", "value": "push" }`).',
  source: DRAFT,
};
const released: Rule = {
  id: 'stream-cancel-releases',
  level: 'must',
  quote: 'Cancellation. On Streamable HTTP, the client aborts the request stream. ... In both cases, the server MUST stop delivering events and release any associated resources.',
  source: DRAFT,
};
const exhausted: Rule = {
  id: 'error-resource-exhausted',
  level: 'must',
  quote: '-32013 ResourceExhausted: A server-imposed limit or quota was reached. `data.limit` names it (e.g. "subscriptions"); `data.max` MAY give the ceiling.',
  source: DRAFT,
};

/** Arguments its inputSchema rejects: an unknown key when none is allowed, else a property of the wrong type. */
export function invalidArguments(schema: unknown): Json | undefined {
  if (!isObject(schema)) return undefined;
  if (schema.additionalProperties === false) return { 'events-conformance-unknown-key': true };
  const wrong: Record<string, unknown> = { string: 12345, number: 'x', integer: 'x', boolean: 'x', array: 'x', object: 'x' };
  for (const [key, property] of Object.entries(isObject(schema.properties) ? schema.properties : {})) {
    const type = isObject(property) ? property.type : undefined;
    if (typeof type === 'string' && type in wrong) return { [key]: wrong[type] };
  }
  return undefined;
}

/** The JSON-RPC error a stream request was refused with, if it was refused before any notification. */
async function refusal(stream: OpenStream): Promise<{ code?: number; data?: unknown; notifications: number } | undefined> {
  const first = await stream.messages.waitFor(() => true, 10_000);
  stream.close();
  if (!first?.error || first.id !== stream.requestId) return first ? { notifications: 1 } : undefined;
  return { code: first.error.code, data: first.error.data, notifications: 0 };
}

export const errors: Scenario = {
  name: 'errors',
  title: 'error codes and their data',
  rules: [notFoundPoll, notFoundStream, badArguments, badParams, unsupportedMode, exhausted, released],
  async run(context, report) {
    const { connection } = context;
    const unknown = await connection.request('events/poll', { name: NO_SUCH_TYPE, cursor: null });
    const data = unknown.message?.error?.data;
    report.check(
      notFoundPoll,
      unknown.message?.error?.code === -32011 && (data === undefined || !isObject(data) || data.kind === undefined || data.kind === 'event'),
      describeReply(unknown),
    );
    const unknownStream = await connection.openStream('events/stream', { name: NO_SUCH_TYPE, cursor: null });
    const refused = await refusal(unknownStream);
    report.check(notFoundStream, refused?.code === -32011 && refused.notifications === 0, `HTTP ${unknownStream.status} ${unknownStream.contentType}: first message ${show(unknownStream.messages.items[0])}`);

    const listed = await connection.request('events/list', {});
    const types = (listed.message?.result?.events as Json[] | undefined) ?? [];
    const type = types.find((t) => t.name === context.subscription.name);
    const offers = (t: Json, mode: string) => Array.isArray(t.delivery) && t.delivery.includes(mode);
    const noPush = types.find((t) => !offers(t, 'push'));
    const noPoll = types.find((t) => !offers(t, 'poll'));
    if (noPush) {
      const refused = await refusal(await connection.openStream('events/stream', { name: noPush.name, cursor: null }));
      report.check(unsupportedMode, refused?.code === -32014 && isObject(refused.data), `events/stream of ${show(noPush.name)} (delivery ${show(noPush.delivery)}): ${show(refused)}`);
    } else if (noPoll) {
      const polled = await connection.request('events/poll', { name: noPoll.name, cursor: null });
      report.check(unsupportedMode, polled.message?.error?.code === -32014 && isObject(polled.message.error.data), `events/poll of ${show(noPoll.name)} (delivery ${show(noPoll.delivery)}): ${describeReply(polled)}`);
    } else {
      report.skip(unsupportedMode, 'every event type offers both poll and push');
    }
    const wrong = invalidArguments(type?.inputSchema);
    if (wrong === undefined) report.skip(badArguments, `no arguments could be derived that ${context.subscription.name}'s inputSchema rejects`);
    else {
      const polled = await connection.request('events/poll', { name: context.subscription.name, arguments: wrong, cursor: null });
      const streamed = await connection.openStream('events/stream', { name: context.subscription.name, arguments: wrong, cursor: null });
      const streamRefusal = await refusal(streamed);
      report.check(
        badArguments,
        polled.message?.error?.code === -32602 && streamRefusal?.code === -32602,
        `arguments ${show(wrong)}: poll ${describeReply(polled)}; stream ${show(streamRefusal ?? streamed.messages.items[0])}`,
      );
    }
    const badMax = await connection.request('events/poll', subscriptionParams(context.subscription, { cursor: null, maxEvents: 'ten' }));
    report.check(badParams, badMax.message?.error?.code === -32602, `maxEvents "ten": ${describeReply(badMax)}`);

    const limit = context.options.exhaustStreams;
    if (limit <= 0) {
      for (const rule of [exhausted, released]) report.skip(rule, 'needs --exhaust-streams <n> (open up to n streams to reach a server limit)');
      return;
    }
    const held: OpenStream[] = [];
    try {
      let refusedWith: { code?: number; data?: unknown } | undefined;
      for (let i = 0; i < limit && refusedWith === undefined; i++) {
        const s = await connection.openStream('events/stream', subscriptionParams(context.subscription, { cursor: null }));
        held.push(s);
        const first = await s.messages.waitFor(() => true, 10_000);
        if (first?.error && first.id === s.requestId) refusedWith = first.error;
      }
      if (refusedWith === undefined) report.skip(exhausted, `${limit} streams were all opened: no limit reached`);
      else {
        const d = refusedWith.data;
        report.check(
          exhausted,
          refusedWith.code === -32013 && isObject(d) && typeof d.limit === 'string' && (d.max === undefined || Number.isInteger(d.max)),
          `stream ${held.length} refused with ${show(refusedWith)}`,
        );
      }
    } finally {
      for (const s of held) s.close();
    }
    if (!report.has(exhausted) || report.results.find((r) => r.rule === exhausted)?.outcome === 'skip') {
      report.skip(released, 'no limit was reached');
      return;
    }
    // The streams at the limit were aborted: a new one must be served (within a few tries, for the aborts to land).
    let served = false;
    for (let i = 0; i < 10 && !served; i++) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, 300));
      const s = await connection.openStream('events/stream', subscriptionParams(context.subscription, { cursor: null }));
      const first = await s.messages.waitFor(() => true, 10_000);
      s.close();
      served = first?.method === 'notifications/events/active';
    }
    report.check(released, served, `after aborting the streams that reached the limit, a new stream was still refused (3 s of tries)`);
  },
};
