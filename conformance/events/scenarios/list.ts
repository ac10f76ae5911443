/** `events/list`: the event types, each with its delivery modes and schemas; pages by `nextCursor`. */
import { DRAFT, type Json, type Rule, type Scenario, isObject, show } from '../suite.js';

const MODES = ['poll', 'push', 'webhook'];

const listShape: Rule = {
  id: 'list-result',
  level: 'must',
  quote: 'A server declares event types via `events/list` (each with a name, an `inputSchema` for subscription arguments, a `payloadSchema`, and the delivery modes it supports).',
  source: DRAFT,
};
const delivery: Rule = {
  id: 'list-delivery-modes',
  level: 'must',
  quote: '`delivery` lists the delivery modes this event type supports — any non-empty subset of "poll", "push", "webhook".',
  source: DRAFT,
};
const schemas: Rule = {
  id: 'list-schemas',
  level: 'must',
  quote: '`inputSchema` is a JSON Schema describing valid subscription arguments ... `payloadSchema` describes the shape of `data` in delivered events.',
  source: DRAFT,
};
const uniqueNames: Rule = {
  id: 'list-unique-names',
  level: 'must',
  quote: 'The client subscribes with `(name, arguments)` and receives event occurrences `{eventId, name, timestamp, data, cursor}`. — so a name stands for one event type.',
  source: DRAFT,
};
const paging: Rule = {
  id: 'list-next-cursor',
  level: 'must',
  quote: '"nextCursor": present when more pages are available; same semantics as tools/list etc.',
  source: DRAFT,
};
const resultType: Rule = {
  id: 'list-result-type-2026',
  level: 'must',
  quote: 'Every result carries a required `resultType` ("complete" or "input_required").',
  source: 'MCP 2026-07-28 (changelog)',
};

/** Reads every page of `events/list`, at most 100. */
export async function listAll(request: (params: Json) => Promise<Json | undefined>): Promise<{ types: Json[]; pages: Json[]; problem?: string }> {
  const types: Json[] = [];
  const pages: Json[] = [];
  let cursor: unknown;
  for (let page = 0; page < 100; page++) {
    const result = await request(cursor === undefined ? {} : { cursor });
    if (!result) return { types, pages, problem: `page ${page + 1} failed` };
    pages.push(result);
    if (!Array.isArray(result.events)) return { types, pages, problem: `page ${page + 1} has no events array` };
    types.push(...(result.events as Json[]));
    if (result.nextCursor === undefined || result.nextCursor === null) return { types, pages };
    if (typeof result.nextCursor !== 'string') return { types, pages, problem: `nextCursor is ${show(result.nextCursor)}` };
    cursor = result.nextCursor;
  }
  return { types, pages, problem: 'more than 100 pages' };
}

export const list: Scenario = {
  name: 'list',
  title: 'events/list',
  rules: [listShape, delivery, schemas, uniqueNames, paging, resultType],
  async run(context, report) {
    let failure = '';
    const { types, pages, problem } = await listAll(async (params) => {
      const reply = await context.connection.request('events/list', params);
      if (!reply.message?.result) failure = `HTTP ${reply.status} ${show(reply.message?.error ?? reply.message)}`;
      return reply.message?.result;
    });
    const shaped = types.every((t) => typeof t.name === 'string' && t.name !== '' && (t.description === undefined || typeof t.description === 'string'));
    report.check(listShape, !problem && types.length > 0 && shaped, problem ? `${problem} ${failure}` : `event types: ${show(types.map((t) => t.name))}`);
    const badDelivery = types.filter(
      (t) => !Array.isArray(t.delivery) || t.delivery.length === 0 || (t.delivery as unknown[]).some((m) => !MODES.includes(m as string)) || new Set(t.delivery).size !== t.delivery.length,
    );
    report.check(delivery, types.length > 0 && badDelivery.length === 0, `bad delivery on ${show(badDelivery.map((t) => [t.name, t.delivery]))}`);
    const badSchemas = types.filter((t) => !isObject(t.inputSchema) || (t.payloadSchema !== undefined && !isObject(t.payloadSchema)));
    report.check(schemas, types.length > 0 && badSchemas.length === 0, `bad schemas on ${show(badSchemas.map((t) => t.name))}`);
    const names = types.map((t) => t.name);
    report.check(uniqueNames, new Set(names).size === names.length, `duplicate names in ${show(names)}`);
    report.check(paging, !problem, problem ?? '');
    if (context.options.era === '2026-07-28') {
      const bad = pages.filter((p) => p.resultType !== 'complete');
      report.check(resultType, pages.length > 0 && bad.length === 0, `resultType ${show(bad.map((p) => p.resultType))}`);
    } else {
      report.skip(resultType, 'not the 2026-07-28 wire');
    }
  },
};
