import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/app.js';
import { catalogueTypes } from '../../src/events/catalogue.js';
import type { Event } from '../../src/events/event.js';
import { type SampleName, sampleNames } from '../../src/ingest/samples.js';
import { sendSample } from '../../src/ingest/send-sample.js';
import { builtInHandlers } from '../../src/reactions/built-in-handlers.js';
import { NOTIFICATIONS_OPT_IN } from '../../src/reactions/handlers/order-status.js';
import type { RunRecord } from '../../src/reactions/run-recorder.js';
import { eventually } from '../support/mcp-clients.js';
import { routeOfSample, startTestRelay, testSecrets } from '../support/relay.js';
import { Inbox } from '../support/sse-reader.js';

/** What each sample is stored as, the built-in reactions it feeds, and the event they derive from it. */
const catalogue: Record<SampleName, { type: string; reactions: string[]; derives?: string }> = {
  payment_failed: { type: 'payment.failed', reactions: ['relay/payment-failed'], derives: 'outreach.requested' },
  payment_succeeded: { type: 'payment.succeeded', reactions: ['relay/payment-succeeded'] },
  refund: { type: 'refund.updated', reactions: [] },
  dispute_opened: { type: 'dispute.opened', reactions: [] },
  order_created: { type: 'order.created', reactions: ['relay/order-customer'] },
  order_shipped: { type: 'order.shipped', reactions: ['relay/order-shipped'], derives: 'notification.requested' },
  order_fulfilled: { type: 'order.shipped', reactions: ['relay/order-shipped'], derives: 'notification.requested' },
  order_delayed: { type: 'order.delayed', reactions: ['relay/order-delayed'] },
  order_delivered: { type: 'order.delivered', reactions: ['relay/order-delivered'] },
  order_canceled: { type: 'order.canceled', reactions: [] },
  ticket_created: { type: 'ticket.created', reactions: [] },
  ticket_updated: { type: 'ticket.updated', reactions: [] },
  ticket_escalated: { type: 'ticket.escalated', reactions: ['relay/ticket-escalated'], derives: 'handoff.requested' },
  ticket_solved: { type: 'ticket.solved', reactions: [] },
  github_issue: { type: 'github.issues.opened', reactions: [] },
  standard: { type: 'standard.invoice.paid', reactions: [] },
};

/** The catalogue types no provider sends: the reactions' derived events and the relay's alert. */
const RELAY_TYPES = ['outreach.requested', 'handoff.requested', 'notification.requested', 'relay.alert'];
/** The Shopify samples' customer and order #1001. */
const SHOPPER = '7039217361201';
const ORDER = '5600823296049';

describe('the samples, through the receiver and the reactions', () => {
  let relay: Relay;
  const runs = new Inbox<RunRecord>();
  beforeAll(async () => {
    relay = await startTestRelay({ RELAY_REACTIONS: 'on' });
    relay.reactions!.recorder.onRun((run) => runs.push(run));
    // The consent a CRM handler would record: shipments are then announced to the shopper.
    await relay.memory.upsert(SHOPPER, NOTIFICATIONS_OPT_IN, true, { eventId: '01J000000000000000000CRM01', occurredAt: '2023-01-01T00:00:00Z' });
  });
  afterAll(() => relay.close());

  it('cover every type a provider sends and every built-in reaction', () => {
    const sent = new Set(Object.values(catalogue).map((c) => c.type));
    expect(catalogueTypes.filter((type) => !RELAY_TYPES.includes(type) && !sent.has(type))).toEqual([]);
    const fed = new Set(Object.values(catalogue).flatMap((c) => c.reactions));
    expect(builtInHandlers().map((h) => h.name).filter((name) => !fed.has(name))).toEqual([]);
  });

  async function derivedFrom(cause: Event, type: string): Promise<Event> {
    return eventually(async () => {
      const { events } = await relay.log.read({ after: cause.id, filter: { types: [type] } });
      return events.find((e) => e.data.causeId === cause.id);
    }, `${type} caused by ${cause.type}`);
  }

  // In the story's order: order_created must have linked order #1001 to its shopper before its shipment.
  for (const name of sampleNames) {
    const expected = catalogue[name];
    it(`stores a fresh ${name} as ${expected.type}${expected.reactions.length ? `, and ${expected.reactions.join(', ')} runs` : ''}`, async () => {
      const source = routeOfSample[name];
      const sent = await sendSample({ url: relay.url, source, sample: name, secret: testSecrets[source], nowMs: Date.now(), fresh: true });
      expect(sent).toMatchObject({ status: 200, body: { received: true, duplicate: false } });
      const id = (sent.body as { id: string }).id;
      const { events } = await relay.log.read({ after: null, limit: 10_000 });
      const event = events.find((e) => e.id === id)!;
      expect(event).toMatchObject({ source, type: expected.type });
      const ran = await runs.until(
        (items) => expected.reactions.every((handler) => items.some((r) => r.eventId === id && r.handler === handler)),
        `the reactions to ${name}`,
      );
      expect(ran.filter((r) => r.eventId === id).map((r) => [r.handler, r.outcome])).toEqual(expected.reactions.map((handler) => [handler, 'succeeded']));
      if (expected.derives) expect(await derivedFrom(event, expected.derives)).toMatchObject({ source: 'relay', type: expected.derives });
    });
  }

  it("leaves the shopper's order #1001 delivered, after shipped twice and delayed", async () => {
    const context = await relay.memory.get(SHOPPER);
    expect(context.facts[`order_${ORDER}_status`]?.value).toMatchObject({ status: 'delivered' });
    const history = await relay.memory.history(SHOPPER, `order_${ORDER}_status`);
    expect(history.map((fact) => (fact.value as { status: string }).status)).toEqual(['shipped', 'shipped', 'delayed', 'delivered']);
  });
});
