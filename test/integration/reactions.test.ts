import { afterEach, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/app.js';
import { openReader } from '../../src/delivery/reader.js';
import type { Event } from '../../src/events/event.js';
import { sendSample } from '../../src/ingest/send-sample.js';
import { startDefaultRelay, testSecrets } from '../support/relay.js';

describe('reactions in a running relay', () => {
  let relay: Relay | undefined;
  afterEach(async () => {
    await relay?.close();
    relay = undefined;
  });

  it('turns a card_declined payment_failed delivery into customer memory and an outreach.requested event, by default', async () => {
    relay = await startDefaultRelay({ RELAY_PUBLIC_URL: 'https://relay.example.com' });
    const r = relay;
    const outreach = new Promise<Event>((resolve, reject) => {
      const reader = openReader(
        r.log,
        { after: null, filter: { types: ['outreach.requested'] } },
        {
          events: ([event]) => {
            reader.stop();
            resolve(JSON.parse(event!.json) as Event);
          },
          gap: () => undefined,
          failed: reject,
        },
      );
    });
    const changed = new Promise<void>((resolve) => {
      const stop = r.memory.onChange((change) => {
        if (change.key === 'payment_status') {
          stop();
          resolve();
        }
      });
    });
    const sent = await sendSample({ url: r.url, source: 'stripe', sample: 'payment_failed', secret: testSecrets.stripe, nowMs: Date.now() });
    expect(sent.status).toBeLessThan(300);

    const event = await outreach;
    await changed;
    expect(event).toMatchObject({
      source: 'relay',
      type: 'outreach.requested',
      customerId: 'cus_vecTEST0001',
      data: { priority: 'high', suggestedAction: 'update_payment_method', failureCode: 'card_declined' },
    });
    const context = await r.memory.get('cus_vecTEST0001');
    expect(context.facts.payment_status?.value).toMatchObject({ failed: true, suggestedAction: 'update_payment_method' });
    expect(event.data.causeId).toBe(context.facts.payment_status?.eventId);
  });

  it('runs the reactions unless RELAY_REACTIONS=off', async () => {
    relay = await startDefaultRelay();
    expect(relay.reactions).not.toBeNull();
    await relay.close();
    relay = await startDefaultRelay({ RELAY_REACTIONS: 'off' });
    expect(relay.reactions).toBeNull();
  });

  it('refuses to start with a handler module that does not load', async () => {
    await expect(startDefaultRelay({ RELAY_HANDLERS: 'examples/handlers/missing.js' })).rejects.toThrow(/RELAY_HANDLERS: cannot load/);
  });
});
