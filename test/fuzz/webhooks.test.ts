import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/app.js';
import { signDelivery } from '../../src/ingest/sign.js';
import type { ProviderKind } from '../../src/ingest/provider.js';
import { startTestRelay, testSecrets } from '../support/relay.js';
import { CASES, checkAnswer, checkUnharmed, FuzzRun, hostileBody, hostileJson, hostileString, lagProbe, MAX_LOOP_BLOCK_MS, messyEncode, runCases } from './kit.js';

const ROUTES = ['stripe', 'shopify', 'zendesk', 'github', 'standard'] as const;
const SIGNATURE_HEADERS = ['stripe-signature', 'x-shopify-hmac-sha256', 'x-zendesk-webhook-signature', 'x-zendesk-webhook-signature-timestamp', 'x-hub-signature-256', 'webhook-id', 'webhook-timestamp', 'webhook-signature', 'x-github-event', 'x-shopify-topic', 'content-type', 'content-length', 'transfer-encoding'];

describe('fuzz: webhook routes', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await startTestRelay({ RELAY_MAX_BODY_BYTES: '65536' });
  });
  afterAll(() => relay.close());

  it('unsigned and mis-signed deliveries are refused with a JSON reason and commit nothing', async () => {
    const run = new FuzzRun('webhooks/unsigned');
    const head = await relay.log.head();
    const probe = lagProbe();
    await runCases(CASES, 8, async (index) => {
      const { prng } = run;
      const route = prng.chance(0.9) ? prng.pick(ROUTES) : messyEncode(run, hostileString(run, 80)) || 'x';
      const headers: Record<string, string> = {};
      for (let i = prng.int(0, 5); i > 0; i--) {
        const value = hostileString(run, 200).replace(/[^\t\x20-\x7e]/g, '');
        headers[prng.pick(SIGNATURE_HEADERS)] = value;
      }
      delete headers['content-length'];
      delete headers['transfer-encoding'];
      const body = hostileBody(run);
      const method = prng.chance(0.9) ? 'POST' : prng.pick(['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);
      const verdict = run.case(index, { route, method, headers, body: body.slice(0, 200) });
      const res = await fetch(`${relay.url}/webhooks/${route}`, { method, headers, body: method === 'GET' ? undefined : body });
      const text = await res.text();
      checkAnswer(verdict, res.status, res.headers.get('content-type'), text);
      verdict.check(res.status >= 400, () => `an unsigned delivery was answered ${res.status}`);
    });
    expect(probe.stop()).toBeLessThan(MAX_LOOP_BLOCK_MS);
    await checkUnharmed(run, relay, head);
  });

  it('signed deliveries of hostile bodies are either committed once or refused; the log holds exactly the accepted ones', async () => {
    const run = new FuzzRun('webhooks/signed');
    const before = await relay.log.head();
    const accepted = new Set<string>();
    const probe = lagProbe();
    await runCases(CASES / 2, 8, async (index) => {
      const { prng } = run;
      const route = prng.pick(ROUTES);
      const value = prng.chance(0.3) ? { id: hostileString(run, 80), type: hostileString(run, 80), data: hostileJson(run), created: prng.int(0, 2e9) } : hostileJson(run);
      const raw = Buffer.from(prng.chance(0.3) ? JSON.stringify(value) : hostileBody(run));
      const headers = signDelivery(route as ProviderKind, raw, {
        secret: testSecrets[route],
        nowMs: Date.now(),
        headers: { 'x-shopify-topic': hostileString(run, 40).replace(/[^\x21-\x7e]/g, '') || 'orders/updated', 'x-github-event': 'issues', 'x-github-delivery': `d-${index}` },
      });
      const verdict = run.case(index, { route, body: raw.toString('utf8').slice(0, 300) });
      const res = await fetch(`${relay.url}/webhooks/${route}`, { method: 'POST', headers, body: raw });
      const text = await res.text();
      checkAnswer(verdict, res.status, res.headers.get('content-type'), text);
      if (res.status === 200) {
        const answer = JSON.parse(text) as { id: string; duplicate?: boolean };
        if (!answer.duplicate) accepted.add(answer.id);
      } else {
        verdict.check(res.status >= 400, () => `answered ${res.status}`);
      }
    });
    expect(probe.stop()).toBeLessThan(MAX_LOOP_BLOCK_MS);
    const stored = (await relay.log.read({ after: before ?? '00000000000000000000000000', limit: 10_000 })).events.map((e) => e.id);
    expect(new Set(stored)).toEqual(accepted);
  });
});
