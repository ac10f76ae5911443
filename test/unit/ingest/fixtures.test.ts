import { describe, expect, it } from 'vitest';
import { newEventSchema } from '../../../src/events/event.js';
import { WebhookReceiver } from '../../../src/ingest/receiver.js';
import { NOW, T, fixtureNames, loadFixture, oracleSign, request } from '../../support/webhook-oracles.js';

const secrets = {
  stripe: 'whsec_fixture_secret',
  shopify: 'shpss_fixture_secret',
  zendesk: 'zendesk_fixture_secret',
  github: 'github_fixture_secret',
  standard: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
};

const expected: Record<(typeof fixtureNames)[number], { type: string; subject: string; customerId?: string }> = {
  payment_failed: { type: 'payment.failed', subject: 'customer:cus_vecTEST0001', customerId: 'cus_vecTEST0001' },
  payment_succeeded: { type: 'payment.succeeded', subject: 'customer:cus_vecTEST0001', customerId: 'cus_vecTEST0001' },
  refund: { type: 'refund.updated', subject: 'customer:cus_vecTEST0001', customerId: 'cus_vecTEST0001' },
  dispute_opened: { type: 'dispute.opened', subject: 'dispute:du_1OBvecTEST000004' },
  order_created: { type: 'order.created', subject: 'order:5600823296049', customerId: '7039217361201' },
  order_shipped: { type: 'order.shipped', subject: 'order:5600823296049' },
  order_fulfilled: { type: 'order.shipped', subject: 'order:5600823296049', customerId: '7039217361201' },
  order_delayed: { type: 'order.delayed', subject: 'order:5600823296049' },
  order_delivered: { type: 'order.delivered', subject: 'order:5600823296049' },
  order_canceled: { type: 'order.canceled', subject: 'order:5600851214641', customerId: '7039217361201' },
  ticket_created: { type: 'ticket.created', subject: 'ticket:35436', customerId: '20978392' },
  ticket_updated: { type: 'ticket.updated', subject: 'ticket:35436', customerId: '20978392' },
  ticket_escalated: { type: 'ticket.escalated', subject: 'ticket:5158', customerId: '20978392' },
  ticket_solved: { type: 'ticket.solved', subject: 'ticket:35436', customerId: '20978392' },
  github_issue: { type: 'github.issues.opened', subject: 'repo:octocat/Hello-World' },
  standard: { type: 'standard.invoice.paid', subject: 'customer:cus_vecTEST0001', customerId: 'cus_vecTEST0001' },
};

describe('webhook fixtures', () => {
  for (const name of fixtureNames) {
    it(`receives the ${name} fixture as ${expected[name].type}, a valid log entry`, async () => {
      const fixture = loadFixture(name);
      const secret = secrets[fixture.source];
      const receiver = new WebhookReceiver({ provider: fixture.source, source: fixture.source, secrets: [secret] });
      const headers = await oracleSign(fixture.source, fixture.rawBody, secret, T, fixture.headers);
      const result = receiver.receive(request(fixture.rawBody, headers), NOW);
      if (!result.ok) throw new Error(`refused: ${result.reason}`);
      if (!('event' in result)) throw new Error('answered without an event');
      expect(result.event).toMatchObject(expected[name]);
      expect(result.event.customerId).toBe(expected[name].customerId);
      expect(result.event.raw).toEqual(fixture.body);
      expect(newEventSchema.safeParse(result.event).success).toBe(true);
    });
  }

  it('keeps signature headers out of the fixture files', () => {
    for (const name of fixtureNames) {
      const names = Object.keys(loadFixture(name).headers);
      expect(names.filter((h) => /signature|hmac/.test(h))).toEqual([]);
    }
  });
});
