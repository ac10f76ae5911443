import { createHmac } from 'node:crypto';
import { verify as githubVerify } from '@octokit/webhooks-methods';
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SampleProvider } from '../../../src/ingest/samples.js';
import { webhookProviders } from '../../../src/ingest/providers/index.js';
import { signDelivery } from '../../../src/ingest/sign.js';
import { NOW, T, fixtureNames, loadFixture } from '../../support/webhook-oracles.js';

const body = loadFixture('payment_failed').rawBody;
const raw = Buffer.from(body, 'utf8');

describe('signDelivery, checked against the official verifiers', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('produces a Stripe-Signature that stripe.webhooks.constructEvent accepts', () => {
    const headers = signDelivery('stripe', raw, { secret: 'whsec_abc', nowMs: T });
    expect(Stripe.webhooks.constructEvent(body, headers['stripe-signature'] ?? '', 'whsec_abc', 300, undefined, NOW).id).toBe('evt_3OBvecTEST000001');
  });

  it('signs once per Stripe secret while rotating, and the library accepts either', () => {
    const headers = signDelivery('stripe', raw, { secret: ['whsec_new', 'whsec_old'], nowMs: T });
    expect(headers['stripe-signature']?.match(/v1=/g)).toHaveLength(2);
    for (const secret of ['whsec_new', 'whsec_old']) {
      expect(() => Stripe.webhooks.constructEvent(body, headers['stripe-signature'] ?? '', secret, 300, undefined, NOW)).not.toThrow();
    }
  });

  it('produces Standard Webhooks headers that standardwebhooks verifies, for each rotated secret', () => {
    vi.useFakeTimers({ now: NOW, toFake: ['Date'] });
    const secrets = ['whsec_G+sSRCOh684A5GyX7WyR2NjjPK+CeyixQB0ymBVDDGk=', 'whsec_wKYo0ywQ9flcazadQBAU5jKpXFVc5dpWYyBWENZnlJw='];
    const headers = signDelivery('standard', raw, { secret: secrets, nowMs: T, headers: { 'webhook-id': 'msg_1' } });
    expect(headers).toMatchObject({ 'webhook-id': 'msg_1', 'webhook-timestamp': '1700000000' });
    for (const secret of secrets) expect(new Webhook(secret).verify(raw, headers)).toMatchObject({ id: 'evt_3OBvecTEST000001' });
  });

  it('generates a message id for Standard Webhooks when none is given', () => {
    const headers = signDelivery('standard', raw, { secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', nowMs: T });
    expect(headers['webhook-id']).toMatch(/^msg_[0-9a-f]{32}$/);
  });

  it('produces an X-Hub-Signature-256 that @octokit/webhooks-methods verifies', async () => {
    const headers = signDelivery('github', raw, { secret: 'gh_secret', nowMs: T });
    expect(await githubVerify('gh_secret', body, headers['x-hub-signature-256'] ?? '')).toBe(true);
  });

  it("produces Shopify's base64 HMAC of the body", () => {
    const headers = signDelivery('shopify', raw, { secret: 'shpss_x', nowMs: T });
    expect(headers['x-shopify-hmac-sha256']).toBe(createHmac('sha256', 'shpss_x').update(body).digest('base64'));
  });

  it("produces Zendesk's base64 HMAC of timestamp + body, with a whole-second timestamp", () => {
    const headers = signDelivery('zendesk', raw, { secret: 'zd', nowMs: T + 999 });
    expect(headers['x-zendesk-webhook-signature-timestamp']).toBe('2023-11-14T22:13:20Z');
    expect(headers['x-zendesk-webhook-signature']).toBe(createHmac('sha256', 'zd').update(`2023-11-14T22:13:20Z${body}`).digest('base64'));
  });

  it('copies the other headers with lower-cased names', () => {
    const headers = signDelivery('github', raw, { secret: 's', nowMs: T, headers: { 'X-GitHub-Event': 'issues' } });
    expect(headers).toMatchObject({ 'x-github-event': 'issues', 'content-type': 'application/json' });
  });

  it('throws on a blank secret rather than sending an unverifiable delivery', () => {
    expect(() => signDelivery('github', raw, { secret: ' \n', nowMs: T })).toThrow();
  });

  it('throws on a Standard Webhooks secret that is not base64', () => {
    expect(() => signDelivery('standard', raw, { secret: 'whsec_not base64!', nowMs: T })).toThrow(/whsec_<base64>/);
  });

  const secretFor: Record<SampleProvider, string> = {
    stripe: 'whsec_s',
    shopify: 'shpss_s',
    zendesk: 'zd_s',
    github: 'gh_s',
    standard: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  };
  for (const name of fixtureNames) {
    it(`signs the ${name} fixture so that our own verifier accepts it`, () => {
      const fixture = loadFixture(name);
      const secret = secretFor[fixture.source];
      const rawBody = Buffer.from(fixture.rawBody, 'utf8');
      const headers = signDelivery(fixture.source, rawBody, { secret, nowMs: T, headers: fixture.headers });
      expect(webhookProviders[fixture.source].verify({ rawBody, headers }, { secrets: [secret], nowMs: NOW, toleranceS: 300 })).toEqual({ ok: true });
    });
  }
});
