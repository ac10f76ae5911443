/** Capability: the server advertises Events; a client that did not opt in is refused the way its wire says. */
import { DRAFT, type Rule, type Scenario, isObject, show } from '../suite.js';

const advertised: Rule = {
  id: 'capability-advertised',
  level: 'must',
  quote: 'Servers advertise event support in their capabilities: { "capabilities": { "events": { "listChanged": true } } }',
  source: DRAFT,
};
const listChangedType: Rule = {
  id: 'capability-list-changed-boolean',
  level: 'must',
  quote: 'If the set of available event types ... changes at runtime ..., the server sends a `notifications/events/list_changed` notification. ... This is consistent with `notifications/tools/list_changed` — so `listChanged` is the boolean it is for tools.',
  source: DRAFT,
};
const missingModern: Rule = {
  id: 'capability-missing-2026-32021',
  level: 'must',
  quote: 'If the request needs an undeclared client capability, answer -32021 MissingRequiredClientCapability, data: {requiredCapabilities: {...}}, HTTP 400.',
  source: 'MCP 2026-07-28, SEP-2575',
};
const missingLegacy: Rule = {
  id: 'capability-missing-2025-error',
  level: 'must',
  quote: '-32014 Unsupported: The request is well-formed but a requested capability or option is not supported here ... `data` identifies it.',
  source: DRAFT,
};

export const capability: Scenario = {
  name: 'capability',
  title: 'capability declaration and client opt-in',
  rules: [advertised, listChangedType, missingModern, missingLegacy],
  async run(context, report) {
    const capabilities = await context.connection.serverCapabilities();
    const events = capabilities?.events;
    report.check(advertised, isObject(events), `capabilities.events is ${show(events)} (capabilities: ${show(capabilities)})`);
    if (isObject(events) && events.listChanged !== undefined) {
      report.check(listChangedType, typeof events.listChanged === 'boolean', `events.listChanged is ${show(events.listChanged)}`);
    } else {
      report.skip(listChangedType, 'the capability has no listChanged');
    }

    // A client that declares nothing: the draft defines no client capability, so a server may
    // serve it; a server that requires one must refuse the way the wire says.
    const bare = await context.connect({});
    const reply = await bare.request('events/list', {});
    await bare.close();
    const error = reply.message?.error;
    const modern = context.options.era === '2026-07-28';
    const rule = modern ? missingModern : missingLegacy;
    report.skip(modern ? missingLegacy : missingModern, `not the ${modern ? '2025-11-25' : '2026-07-28'} wire`);
    if (!error) {
      report.skip(rule, 'the server serves events/list to a client that declared no capability (the draft defines none)');
      return;
    }
    if (modern) {
      const data = error.data as { requiredCapabilities?: unknown } | undefined;
      report.check(
        rule,
        reply.status === 400 && error.code === -32021 && isObject(data?.requiredCapabilities),
        `HTTP ${reply.status}, error ${show(error)}`,
      );
    } else {
      report.check(rule, error.code === -32014 && isObject(error.data), `error ${show(error)}`);
    }
  },
};
