import { describe, expect, it } from 'vitest';
import type { Event } from '../../../src/events/event.js';
import { newEventSchema } from '../../../src/events/event.js';
import { mcpEventsProvider } from '../../../src/ingest/providers/mcp-events.js';
import { WebhookReceiver } from '../../../src/ingest/receiver.js';
import { eventEnvelope, gapEnvelope, terminatedEnvelope, verificationEnvelope } from '../../../src/outbound/envelopes.js';
import { NOW, T, oracleSign, request } from '../../support/webhook-oracles.js';
import { describeVerifier } from './verifier-suite.js';

const secret = 'whsec_G+sSRCOh684A5GyX7WyR2NjjPK+CeyixQB0ymBVDDGk=';
const previousSecret = 'whsec_wKYo0ywQ9flcazadQBAU5jKpXFVc5dpWYyBWENZnlJw=';

/** An event of an upstream relay's log, as its webhook delivery carries it. */
const upstream: Event = {
  id: '01JBCDEFGHJKMNPQRSTVWXYZ00',
  source: 'stripe',
  type: 'payment.failed',
  sourceType: 'payment_intent.payment_failed',
  sourceEventId: 'evt_1',
  subject: 'customer:cus_9',
  customerId: 'cus_9',
  occurredAt: '2023-11-14T22:13:00.000Z',
  receivedAt: '2023-11-14T22:13:05.000Z',
  data: { amount: 4999, currency: 'usd' },
  raw: { id: 'evt_1' },
};

const occurrenceOf = (event: Event, name = 'cx_events') => eventEnvelope(name, { id: event.id, type: event.type, source: event.source, json: JSON.stringify(event) }).body.toString();
const headers = { 'webhook-id': 'msg_control_0001', 'webhook-timestamp': String(T / 1000) };
const normalize = (body: unknown, extra: Record<string, string> = headers) => mcpEventsProvider.normalize('upstream', body, request('', extra));

describeVerifier({
  kind: 'mcp-events',
  name: 'MCP Events',
  secret,
  previousSecret,
  body: occurrenceOf(upstream),
  headers: { 'webhook-id': upstream.id },
  signatureHeader: 'webhook-signature',
  withMac: (mac) => `v1,${mac}`,
  timestamped: true,
});

describe('MCP Events occurrences', () => {
  it("keeps an upstream relay's catalogue event as it was: type, subject, customer, fields; deduplicated on eventId, dated by timestamp", () => {
    const body = JSON.parse(occurrenceOf(upstream));
    const result = normalize(body);
    expect(result).toEqual({
      ok: true,
      event: {
        source: 'upstream',
        type: 'payment.failed',
        sourceType: 'payment.failed',
        sourceEventId: upstream.id,
        subject: 'customer:cus_9',
        customerId: 'cus_9',
        occurredAt: upstream.occurredAt,
        data: upstream.data,
        raw: body,
      },
    });
    if (!result.ok || !('event' in result)) throw new Error('not an event');
    expect(newEventSchema.safeParse(result.event).success).toBe(true);
  });

  it("keeps an upstream event outside the catalogue under this route's name", () => {
    const acme = { ...upstream, source: 'acme', type: 'acme.invoice.paid', subject: undefined, customerId: undefined };
    expect(normalize(JSON.parse(occurrenceOf(acme)))).toMatchObject({ ok: true, event: { type: 'upstream.acme.invoice.paid', sourceType: 'acme.invoice.paid', data: upstream.data } });
  });

  it("takes any Events server's occurrence by its name, its data as the event's data", () => {
    const body = { eventId: 'e-1', name: 'build.finished', timestamp: '2023-11-14T23:13:20+01:00', data: { ok: true }, cursor: 'c1' };
    expect(normalize(body)).toEqual({
      ok: true,
      event: { source: 'upstream', type: 'upstream.build.finished', sourceType: 'build.finished', sourceEventId: 'e-1', occurredAt: '2023-11-14T22:13:20.000Z', data: { ok: true }, raw: body },
    });
    expect(normalize({ ...body, name: 'order.shipped', data: [1] })).toMatchObject({ event: { type: 'order.shipped', data: {} } });
  });

  const malformed: [string, Record<string, unknown>, string][] = [
    ['no eventId', { name: 'x', timestamp: upstream.occurredAt, data: {} }, 'missing_event_id'],
    ['an eventId that is an object', { eventId: { id: 1 }, name: 'x', timestamp: upstream.occurredAt, data: {} }, 'invalid_event_id'],
    ['no name', { eventId: 'e-1', timestamp: upstream.occurredAt, data: {} }, 'malformed_envelope'],
    ['a name that is a number', { eventId: 'e-1', name: 7, timestamp: upstream.occurredAt, data: {} }, 'malformed_envelope'],
    ['no timestamp', { eventId: 'e-1', name: 'x', data: {} }, 'malformed_envelope'],
    ['a timestamp without a zone', { eventId: 'e-1', name: 'x', timestamp: '2023-11-14T22:13:20', data: {} }, 'malformed_envelope'],
  ];
  for (const [what, body, reason] of malformed) {
    it(`refuses an occurrence with ${what} (400 ${reason})`, () => {
      expect(normalize(body)).toMatchObject({ ok: false, status: 400, reason });
    });
  }

  it('refuses a body that is not a JSON object', () => {
    for (const body of [[1], 'text', 5, null]) expect(normalize(body)).toMatchObject({ status: 400, reason: 'malformed_envelope' });
  });
});

describe('MCP Events control envelopes', () => {
  it('answers a verification with its challenge and no event', () => {
    expect(normalize(JSON.parse(verificationEnvelope('ch_123').body.toString()))).toEqual({ ok: true, reply: { challenge: 'ch_123' } });
  });

  it('refuses a verification without a string challenge', () => {
    for (const challenge of [undefined, '', 42]) expect(normalize({ type: 'verification', challenge })).toMatchObject({ status: 400, reason: 'malformed_envelope' });
  });

  it('keeps a gap as relay.gap, deduplicated on webhook-id and dated by webhook-timestamp', () => {
    const body = JSON.parse(gapEnvelope(upstream.id, 'retention').body.toString());
    expect(normalize(body)).toEqual({
      ok: true,
      event: {
        source: 'upstream',
        type: 'relay.gap',
        sourceType: 'gap',
        sourceEventId: 'msg_control_0001',
        occurredAt: new Date(T).toISOString(),
        data: { cursor: upstream.id, reason: 'retention' },
        raw: body,
      },
    });
  });

  it('keeps a terminated envelope as relay.terminated with its error', () => {
    const error = { code: -32015, message: 'suspended', data: { suspended: true } };
    expect(normalize(JSON.parse(terminatedEnvelope(error).body.toString()))).toMatchObject({
      ok: true,
      event: { type: 'relay.terminated', sourceType: 'terminated', sourceEventId: 'msg_control_0001', data: { error } },
    });
  });

  it('refuses a gap without a cursor and a terminated envelope without an error object', () => {
    expect(normalize({ type: 'gap', reason: 'retention' })).toMatchObject({ status: 400, reason: 'malformed_envelope' });
    expect(normalize({ type: 'gap', cursor: 5 })).toMatchObject({ status: 400, reason: 'malformed_envelope' });
    expect(normalize({ type: 'terminated', error: 'gone' })).toMatchObject({ status: 400, reason: 'malformed_envelope' });
  });

  it('refuses a control envelope without webhook-id', () => {
    expect(normalize({ type: 'gap', cursor: upstream.id }, {})).toMatchObject({ status: 400, reason: 'missing_event_id' });
  });

  it('refuses an envelope type it does not know', () => {
    for (const type of ['subscribed', 'event', 5, { gap: true }]) expect(normalize({ type, cursor: upstream.id })).toMatchObject({ status: 400, reason: 'unknown_envelope' });
  });
});

describe('an mcp-events route', () => {
  const receiver = () => new WebhookReceiver({ provider: 'mcp-events', source: 'upstream', secrets: [secret] });

  it('answers a verification signed with the standardwebhooks library', async () => {
    const body = verificationEnvelope('ch_signed').body.toString();
    const signed = await oracleSign('mcp-events', body, secret, T, { 'webhook-id': 'msg_verification_1' });
    expect(receiver().receive(request(body, signed), NOW)).toEqual({ ok: true, reply: { challenge: 'ch_signed' } });
  });

  it('verifies before it answers: an unsigned verification is refused', () => {
    expect(receiver().receive(request(verificationEnvelope('ch').body, { 'webhook-id': 'm', 'webhook-timestamp': String(T / 1000) }), NOW)).toMatchObject({ status: 400, reason: 'missing_signature' });
  });

  it('needs Standard Webhooks secrets', () => {
    expect(() => new WebhookReceiver({ provider: 'mcp-events', source: 'upstream', secrets: ['plain-secret'] })).toThrow(/whsec_<base64>/);
  });
});
