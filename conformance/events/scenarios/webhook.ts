/** Webhook delivery (`events/subscribe`): not covered by this suite yet; says so, and what the server offers. */
import { DRAFT, type Json, type Rule, type Scenario } from '../suite.js';

const subscribe: Rule = {
  id: 'webhook-subscribe',
  level: 'must',
  quote: 'Webhook (`events/subscribe`) registers an `https` callback URL plus a client-supplied `whsec_` secret; the server POSTs each event there, signed per Standard Webhooks.',
  source: DRAFT,
};

export const webhook: Scenario = {
  name: 'webhook',
  title: 'webhook delivery (events/subscribe)',
  rules: [subscribe],
  async run(context, report) {
    const listed = await context.connection.request('events/list', {});
    const offering = ((listed.message?.result?.events as Json[] | undefined) ?? []).filter((t) => Array.isArray(t.delivery) && t.delivery.includes('webhook'));
    report.skip(
      subscribe,
      offering.length === 0
        ? 'no event type lists "webhook" delivery; webhook checks (subscribe, refresh, signatures, verification) are not written yet'
        : `${offering.length} event types list "webhook", but this suite has no webhook checks yet (they need a reachable https receiver)`,
    );
  },
};
