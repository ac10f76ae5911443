import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { standardProvider } from '../../../src/ingest/providers/standard.js';
import { NOW, loadFixture, request } from '../../support/webhook-oracles.js';
import { describeVerifier } from './verifier-suite.js';

const newSecret = 'whsec_G+sSRCOh684A5GyX7WyR2NjjPK+CeyixQB0ymBVDDGk=';
const oldSecret = 'whsec_wKYo0ywQ9flcazadQBAU5jKpXFVc5dpWYyBWENZnlJw=';
const v3Body = '{"type":"invoice.paid","timestamp":"2023-11-14T22:13:20Z","data":{"id":"inv_vec0001","amount_due":4999,"currency":"usd"}}';
const v3Headers = {
  'webhook-id': 'msg_2VecTEST0000000000000001',
  'webhook-timestamp': '1700000000',
  'webhook-signature': 'v1,9UZOaQjdJIK6iq0JYD+5KFbFlbtjBRsiQysUdmxlYN0= v1,07Sk+2VzcBMX65dhIU8vSTbHW7pJSqC5jAG6UcU7jxg=',
};
const options = (secrets: string[], nowMs = NOW) => ({ secrets, nowMs, toleranceS: 300 });
const standard = loadFixture('standard');

describeVerifier({
  kind: 'standard',
  name: 'Standard Webhooks',
  secret: newSecret,
  previousSecret: oldSecret,
  body: standard.rawBody,
  headers: standard.headers,
  signatureHeader: 'webhook-signature',
  withMac: (mac) => `v1,${mac}`,
  timestamped: true,
});

describe('Standard Webhooks verification specifics', () => {
  it('accepts the spec vector V2', () => {
    const headers = { 'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek', 'webhook-timestamp': '1614265330', 'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=' };
    const result = standardProvider.verify(request('{"test": 2432232314}', headers), options(['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'], 1_614_265_340_000));
    expect(result).toEqual({ ok: true });
  });

  it('accepts the rotation vector V3 with either secret alone', () => {
    for (const secret of [newSecret, oldSecret]) {
      expect(standardProvider.verify(request(v3Body, v3Headers), options([secret]))).toEqual({ ok: true });
    }
  });

  it('accepts the same delivery under svix-* header names', () => {
    const headers = { 'svix-id': v3Headers['webhook-id'], 'svix-timestamp': v3Headers['webhook-timestamp'], 'svix-signature': v3Headers['webhook-signature'] };
    expect(standardProvider.verify(request(v3Body, headers), options([oldSecret]))).toEqual({ ok: true });
  });

  it('ignores v1a (asymmetric) signatures', () => {
    const headers = { ...v3Headers, 'webhook-signature': v3Headers['webhook-signature'].replaceAll('v1,', 'v1a,') };
    expect(standardProvider.verify(request(v3Body, headers), options([newSecret]))).toMatchObject({ reason: 'missing_signature' });
  });

  it('refuses a delivery without webhook-id, which is signed', () => {
    const { 'webhook-id': _dropped, ...headers } = v3Headers;
    expect(standardProvider.verify(request(v3Body, headers), options([newSecret]))).toMatchObject({ status: 400, reason: 'missing_event_id' });
  });

  it('refuses a delivery without webhook-timestamp', () => {
    const { 'webhook-timestamp': _dropped, ...headers } = v3Headers;
    expect(standardProvider.verify(request(v3Body, headers), options([newSecret]))).toMatchObject({ reason: 'missing_timestamp' });
  });

  it.each(['1.7e9', '-1700000000', '2023-11-14T22:13:20Z'])('refuses the timestamp %j as malformed', (timestamp) => {
    const headers = { ...v3Headers, 'webhook-timestamp': timestamp };
    expect(standardProvider.verify(request(v3Body, headers), options([newSecret]))).toMatchObject({ reason: 'malformed_timestamp' });
  });

  it('decodes the key: an HMAC keyed with the literal whsec_ string does not verify', () => {
    const literal = createHmac('sha256', newSecret).update(`${v3Headers['webhook-id']}.1700000000.${v3Body}`).digest('base64');
    const headers = { ...v3Headers, 'webhook-signature': `v1,${literal}` };
    expect(standardProvider.verify(request(v3Body, headers), options([newSecret]))).toMatchObject({ reason: 'signature_mismatch' });
  });

  it('never matches with a secret that is not base64', () => {
    expect(standardProvider.verify(request(v3Body, v3Headers), options(['whsec_not base64!']))).toMatchObject({ reason: 'signature_mismatch' });
  });
});

describe('Standard Webhooks normalization', () => {
  const normalize = (body: unknown, source = 'standard') =>
    standardProvider.normalize(source, body, request('', { 'webhook-id': 'msg_1' }));

  it('keeps a type outside the catalogue as <source>.<type>, passing data through', () => {
    expect(standardProvider.normalize('standard', standard.body, request('', standard.headers))).toEqual({
      ok: true,
      event: {
        source: 'standard',
        type: 'standard.invoice.paid',
        sourceType: 'invoice.paid',
        sourceEventId: 'msg_2VecTEST0000000000000001',
        subject: 'customer:cus_vecTEST0001',
        customerId: 'cus_vecTEST0001',
        occurredAt: '2023-11-14T22:13:20.000Z',
        data: { id: 'inv_vec0001', customer_id: 'cus_vecTEST0001', amount_due: 4999, currency: 'usd' },
        raw: standard.body,
      },
    });
  });

  it('keeps a catalogue type as-is', () => {
    const body = { type: 'payment.failed', data: { customerId: 'c-7', failureCode: 'card_declined' } };
    expect(normalize(body, 'billing')).toMatchObject({ event: { type: 'payment.failed', customerId: 'c-7', subject: 'customer:c-7' } });
  });

  it("prefers the body's own subject", () => {
    expect(normalize({ type: 'build.finished', subject: 'pipeline:42', data: {} })).toMatchObject({
      event: { type: 'standard.build.finished', subject: 'pipeline:42' },
    });
  });

  it('refuses a body without a type', () => {
    expect(normalize({ data: {} })).toMatchObject({ reason: 'missing_event_type' });
  });
});
