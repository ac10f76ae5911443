import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/app.js';
import { sendSample } from '../../src/ingest/send-sample.js';
import { createEventClient } from '../../client/index.js';
import type { Event } from '../../src/events/event.js';
import { connectLegacyAgent, connectModernAgent, eventually, keys, startMcpRelay, toolOutcome } from '../support/mcp-clients.js';
import { startDefaultRelay, testSecrets } from '../support/relay.js';
import { Inbox } from '../support/sse-reader.js';

const CUSTOMER = 'cus_vecTEST0001';
const CONTEXT_URI = `customer://${CUSTOMER}/context`;

describe('customer context over MCP, filled by reactions', () => {
  let relay: Relay;
  beforeEach(async () => {
    relay = await startMcpRelay({ RELAY_REACTIONS: 'on' });
  });
  afterEach(() => relay.close());

  it('answers get_customer_context with update_payment_method after a declined card, and pushes the outreach it requested', async () => {
    const outreach = new Inbox<Event>();
    const events = createEventClient({ url: `${relay.url}/mcp`, token: keys.alice, mode: 'push' });
    const subscription = await events.subscribe({ filter: { types: ['outreach.requested'] }, onEvent: async (event) => outreach.push(event) });
    const legacy = await connectLegacyAgent(relay);
    await legacy.client.subscribeResource({ uri: CONTEXT_URI });

    const sent = await sendSample({ url: relay.url, source: 'stripe', sample: 'payment_failed', secret: testSecrets.stripe, nowMs: Date.now() });
    expect(sent.status).toBe(200);

    const [derived] = await outreach.until((items) => items.length >= 1, 'the outreach.requested event');
    expect(derived).toMatchObject({ source: 'relay', type: 'outreach.requested', customerId: CUSTOMER, data: { priority: 'high' } });
    await legacy.notifications.until(
      (items) => items.some((n) => n.method === 'notifications/resources/updated' && n.params?.uri === CONTEXT_URI),
      'resources/updated for the customer context',
    );

    const modern = await connectModernAgent(relay);
    const answer = toolOutcome(await modern.client.callTool({ name: 'get_customer_context', arguments: { customerId: CUSTOMER } }));
    expect(answer.isError).toBe(false);
    expect(answer.body.facts.payment_status.value).toMatchObject({ failed: true, failureCode: 'card_declined', suggestedAction: 'update_payment_method' });
    const page = await fetch(`${relay.url}/customers/${CUSTOMER}/context`, { headers: { authorization: `Bearer ${keys.alice}` } });
    expect(((await page.json()) as { facts: Record<string, { value: { suggestedAction: string } }> }).facts.payment_status!.value.suggestedAction).toBe('update_payment_method');
    expect((await fetch(`${relay.url}/customers/${CUSTOMER}/context`)).status).toBe(401);
    const read = await legacy.client.readResource({ uri: CONTEXT_URI });
    expect(JSON.parse(String((read.contents[0] as { text: string }).text)).facts.payment_status.value.suggestedAction).toBe('update_payment_method');

    await subscription.unsubscribe();
    await events.close();
    await Promise.all([legacy.close(), modern.close()]);
  });

  it('answers an unknown customer with an empty context', async () => {
    const modern = await connectModernAgent(relay);
    const answer = toolOutcome(await modern.client.callTool({ name: 'get_customer_context', arguments: { customerId: 'cus_nobody' } }));
    expect(answer.body).toEqual({ customerId: 'cus_nobody', facts: {} });
    await modern.close();
  });
});

describe('customer context on a relay started with the default configuration', () => {
  let relay: Relay;
  beforeEach(async () => {
    relay = await startDefaultRelay({ RELAY_API_KEYS: `${keys.alice}:alice` });
  });
  afterEach(() => relay.close());

  it('answers get_customer_context with the payment_status fact after one signed Stripe payment_intent.payment_failed, in both eras', async () => {
    const sent = await sendSample({ url: relay.url, source: 'stripe', sample: 'payment_failed', secret: testSecrets.stripe, nowMs: Date.now() });
    expect(sent.status).toBe(200);

    const modern = await connectModernAgent(relay);
    const legacy = await connectLegacyAgent(relay);
    for (const agent of [modern, legacy]) {
      const facts = await eventually(async () => {
        const answer = toolOutcome(await agent.client.callTool({ name: 'get_customer_context', arguments: { customerId: CUSTOMER } }));
        expect(answer.isError).toBe(false);
        return answer.body.facts.payment_status === undefined ? undefined : answer.body.facts;
      }, 'the payment_status fact');
      expect(facts.payment_status.value).toMatchObject({ failed: true, failureCode: 'card_declined', suggestedAction: 'update_payment_method' });
    }
    await Promise.all([modern.close(), legacy.close()]);
  });
});
