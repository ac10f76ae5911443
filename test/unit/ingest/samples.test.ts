import { describe, expect, it } from 'vitest';
import type { NewEvent } from '../../../src/events/event.js';
import { webhookProviders } from '../../../src/ingest/providers/index.js';
import { freshSample, loadSample, type Sample, sampleNames } from '../../../src/ingest/samples.js';

/** 2026-01-15T12:00:00.250Z: when the fresh copies are made. */
const NOW_MS = Date.UTC(2026, 0, 15, 12, 0, 0, 250);

function eventOf(sample: Sample): NewEvent {
  const normalized = webhookProviders[sample.provider].normalize(sample.provider, sample.body, { rawBody: sample.rawBody, headers: sample.headers });
  if (!normalized.ok || !('event' in normalized)) throw new Error('the sample does not normalize to an event');
  return normalized.event;
}

const at = (value: unknown, ...path: (string | number)[]): unknown =>
  path.reduce<unknown>((obj, key) => (obj as Record<string | number, unknown> | undefined)?.[key], value);

describe('freshSample', () => {
  for (const name of sampleNames) {
    it(`makes ${name} a new event each time, of the same type and about the same thing`, () => {
      const shipped = loadSample(name);
      const [a, b] = [freshSample(shipped, NOW_MS), freshSample(shipped, NOW_MS)];
      const [original, first, second] = [shipped, a, b].map(eventOf);
      expect(new Set([original!.sourceEventId, first!.sourceEventId, second!.sourceEventId]).size).toBe(3);
      for (const event of [first, second]) {
        expect(event).toMatchObject({ type: original!.type, sourceType: original!.sourceType });
        expect(event!.subject).toBe(original!.subject);
        expect(event!.customerId).toBe(original!.customerId);
      }
      expect(a.rawBody).toEqual(Buffer.from(JSON.stringify(a.body)));
      expect(loadSample(name)).toEqual(shipped);
    });
  }

  it('makes every dated sample dated now by its provider, and leaves GitHub (which dates nothing) undated', () => {
    for (const name of sampleNames) {
      const occurredAt = eventOf(freshSample(loadSample(name), NOW_MS)).occurredAt;
      if (name === 'github_issue') expect(occurredAt).toBeUndefined();
      else expect(Math.abs(Date.parse(occurredAt!) - NOW_MS)).toBeLessThan(1000);
    }
  });

  it('moves every time by one amount, in its own zone and precision, so the story keeps its gaps', () => {
    const shipped = loadSample('order_delayed');
    const fresh = freshSample(shipped, NOW_MS);
    expect(fresh.headers['x-shopify-triggered-at']).toBe('2026-01-15T12:00:00.250Z');
    const gap = (s: Sample) => Date.parse(at(s.body, 'estimated_delivery_at') as string) - Date.parse(at(s.body, 'happened_at') as string);
    expect(gap(fresh)).toBe(gap(shipped));
    expect(at(fresh.body, 'happened_at')).toMatch(/^2026-01-15T\d{2}:\d{2}:\d{2}-05:00$/);
    const ticket = freshSample(loadSample('ticket_escalated'), NOW_MS);
    expect(at(ticket.body, 'time')).toBe('2026-01-15T12:00:00.250789012Z');
    expect(at(ticket.body, 'detail', 'updated_at')).toMatch(/^2026-01-15T\d{2}:\d{2}:\d{2}Z$/);
  });

  it("moves Stripe's unix-seconds times and nothing else that is a number", () => {
    const shipped = loadSample('dispute_opened');
    const fresh = freshSample(shipped, NOW_MS);
    const moved = (at(fresh.body, 'created') as number) - (at(shipped.body, 'created') as number);
    expect(at(fresh.body, 'created')).toBe(Math.round(NOW_MS / 1000));
    expect(at(fresh.body, 'data', 'object', 'created')).toBe((at(shipped.body, 'data', 'object', 'created') as number) + moved);
    expect(at(fresh.body, 'data', 'object', 'evidence_details', 'due_by')).toBe((at(shipped.body, 'data', 'object', 'evidence_details', 'due_by') as number) + moved);
    expect(at(fresh.body, 'data', 'object', 'amount')).toBe(4999);
    expect(at(fresh.body, 'id')).toMatch(/^evt_[0-9a-f]{24}$/);
    expect(at(fresh.body, 'data', 'object', 'id')).toBe('du_1OBvecTEST000004');
  });

  it('gives a Shopify shipment a new fulfillment everywhere it is named, and keeps the order and its customer', () => {
    const shipped = loadSample('order_fulfilled');
    const fresh = freshSample(shipped, NOW_MS);
    const fulfillments = at(fresh.body, 'fulfillments') as Record<string, unknown>[];
    const ids = fulfillments.map((f) => f.id);
    expect(new Set([...ids, 4553551102001, 4553551200305]).size).toBe(4);
    for (const fulfillment of fulfillments) {
      expect(fulfillment.id).toBeGreaterThanOrEqual(1e12);
      expect(fulfillment.admin_graphql_api_id).toBe(`gid://shopify/Fulfillment/${String(fulfillment.id)}`);
    }
    expect(at(fresh.body, 'id')).toBe(5600823296049);
    expect(at(fresh.body, 'customer', 'id')).toBe(7039217361201);
    expect(at(fresh.body, 'line_items', 0, 'id')).toBe(13968357523761);
    for (const header of ['x-shopify-webhook-id', 'x-shopify-event-id']) {
      expect(fresh.headers[header]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(fresh.headers[header]).not.toBe(shipped.headers[header]);
    }
    expect(fresh.headers['x-shopify-topic']).toBe('orders/fulfilled');
  });

  it('renews the delivery ids of GitHub, Zendesk and Standard Webhooks, and the Zendesk event id', () => {
    const github = freshSample(loadSample('github_issue'), NOW_MS);
    expect(github.headers['x-github-delivery']).not.toBe(loadSample('github_issue').headers['x-github-delivery']);
    expect(github.body).toEqual(loadSample('github_issue').body);
    const zendesk = freshSample(loadSample('ticket_created'), NOW_MS);
    expect(zendesk.headers['x-zendesk-webhook-invocation-id']).toMatch(/^\d{10}$/);
    expect(zendesk.headers['x-zendesk-webhook-id']).toBe('01HF3ZK9Q4VJ8X2T6N5R7M1B0C');
    expect(at(zendesk.body, 'detail', 'id')).toBe('35436');
    expect(freshSample(loadSample('standard'), NOW_MS).headers['webhook-id']).toMatch(/^msg_[0-9a-f]{32}$/);
  });
});
