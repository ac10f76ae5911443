import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/app.js';
import { loadSample, type SampleName, sampleNames } from '../../src/ingest/samples.js';
import { routeOfSample, startTestRelay, testSecrets } from '../support/relay.js';
import { oracleSign } from '../support/webhook-oracles.js';


/** A sample signed now by the provider's official library, ready to POST. */
async function signedSample(name: SampleName, secret?: string) {
  const sample = loadSample(name);
  const body = sample.rawBody.toString('utf8');
  const headers = await oracleSign(sample.provider, body, secret ?? testSecrets[sample.provider], Date.now(), {
    ...sample.headers,
    'content-type': 'application/json',
  });
  return { body, headers };
}

async function post(relay: Relay, route: string, body: string, headers: Record<string, string>) {
  const res = await fetch(`${relay.url}/webhooks/${route}`, { method: 'POST', body, headers });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('POST /webhooks/:source', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await startTestRelay({ STRIPE_WEBHOOK_SECRET: `whsec_current, ${testSecrets.stripe}\n` });
  });
  afterAll(() => relay.close());

  for (const name of sampleNames) {
    it(`commits the ${name} sample once and answers duplicate: true to its retry`, async () => {
      const { body, headers } = await signedSample(name);
      const before = await relay.log.head();
      const first = await post(relay, routeOfSample[name], body, headers);
      expect(first).toEqual({ status: 200, body: { received: true, id: expect.any(String), duplicate: false } });
      const retry = await post(relay, routeOfSample[name], body, headers);
      expect(retry).toEqual({ status: 200, body: { received: true, id: first.body.id, duplicate: true } });
      const { events } = await relay.log.read({ after: before });
      expect(events.map((e) => [e.id, e.source])).toEqual([[first.body.id, routeOfSample[name]]]);
    });
  }

  it('commits one entry for 50 simultaneous deliveries of one event, all answered 200', async () => {
    const sample = loadSample('payment_failed');
    const body = JSON.stringify({ ...(sample.body as object), id: 'evt_concurrent_50' });
    const headers = await oracleSign('stripe', body, testSecrets.stripe, Date.now(), { 'content-type': 'application/json' });
    const before = await relay.log.head();
    const answers = await Promise.all(Array.from({ length: 50 }, () => post(relay, 'stripe', body, headers)));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    expect(answers.filter((a) => a.body.duplicate === false)).toHaveLength(1);
    expect((await relay.log.read({ after: before })).events).toHaveLength(1);
  });

  it('accepts deliveries signed with the current and with the previous secret of a rotation', async () => {
    const sample = loadSample('refund');
    for (const [id, secret] of [['evt_rotation_old', testSecrets.stripe], ['evt_rotation_new', 'whsec_current']] as const) {
      const body = JSON.stringify({ ...(sample.body as object), id });
      const headers = await oracleSign('stripe', body, secret, Date.now(), { 'content-type': 'application/json' });
      expect((await post(relay, 'stripe', body, headers)).status).toBe(200);
    }
  });
});
