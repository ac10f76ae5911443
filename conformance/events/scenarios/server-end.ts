/** A stream the server ends by itself (a configured lifetime, a shutdown): `terminated` first, then the final result with `_meta`. */
import { DRAFT, type Json, type Rule, type Scenario, isObject, show, subscriptionParams } from '../suite.js';

const SLACK_MS = 5000;

const finalResult: Rule = {
  id: 'server-end-final-result',
  level: 'must',
  quote: 'when the server terminates the stream it sends the `StreamEventsResult` as the final `data:` frame ... The `StreamEventsResult` is an empty typed result (`{"_meta": {}}`).',
  source: DRAFT,
};
const terminated: Rule = {
  id: 'server-end-terminated-first',
  level: 'advice',
  quote: '`notifications/events/error` reports a recoverable failure ...; the subscription remains active and the server retries and resumes. Only `notifications/events/terminated` ends the subscription. — so a server that ends a stream says why first.',
  source: DRAFT,
};

export const serverEnd: Scenario = {
  name: 'server-end',
  title: 'a stream the server ends',
  rules: [finalResult, terminated],
  async run(context, report) {
    const within = context.options.streamEndsWithinMs;
    if (within === undefined) {
      for (const rule of [finalResult, terminated]) report.skip(rule, 'needs --stream-ends-within <ms> (the server ends streams by itself, e.g. a configured lifetime)');
      return;
    }
    const stream = await context.connection.openStream('events/stream', subscriptionParams(context.subscription, { cursor: null }));
    const ended = await stream.messages.waitForEnd(within + SLACK_MS);
    stream.close();
    const messages = stream.messages.items;
    const result = messages.find((m) => m.id === stream.requestId && m.method === undefined);
    if (!ended) {
      for (const rule of [finalResult, terminated]) report.check(rule, false, `the stream was still open after ${within + SLACK_MS} ms`);
      return;
    }
    if (!result && context.options.era === '2025-11-25' && stream.sseIds.length > 0) {
      // The 2025-11-25 transport lets a server close an SSE stream for the client to resume with Last-Event-ID: not an end.
      for (const rule of [finalResult, terminated]) report.skip(rule, 'the server closed the stream for a Last-Event-ID resume (2025-11-25 transport), which does not end the request');
      return;
    }
    const body = result?.result as Json | undefined;
    const modernOk = context.options.era !== '2026-07-28' || body?.resultType === 'complete';
    report.check(finalResult, isObject(body) && isObject(body._meta) && modernOk, `last messages: ${show(messages.slice(-2))}`);
    const last = messages.filter((m) => m.method !== undefined).at(-1);
    const error = last?.params?.error as Json | undefined;
    report.check(
      terminated,
      last?.method === 'notifications/events/terminated' && isObject(error) && Number.isInteger(error.code) && typeof error.message === 'string',
      `the last notification before the end: ${show(last)}`,
    );
  },
};
