import { describe, expect, it } from 'vitest';
import { WebhookReceiver } from '../../../src/ingest/receiver.js';
import { NOW, T, loadFixture, oracleSign, request } from '../../support/webhook-oracles.js';

const secret = 'gh_vector_secret_0001';
const issue = loadFixture('github_issue');
const github = (options: object = {}) => new WebhookReceiver({ provider: 'github', source: 'github', secrets: [secret], ...options });
const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('WebhookReceiver', () => {
  it('turns a verified delivery into the event to append', async () => {
    const headers = await oracleSign('github', issue.rawBody, secret, T, issue.headers);
    expect(github().receive(request(issue.rawBody, headers), NOW)).toMatchObject({
      ok: true,
      event: { source: 'github', type: 'github.issues.opened' },
    });
  });

  it('stamps the configured source name on the event', async () => {
    const headers = await oracleSign('github', issue.rawBody, secret, T, issue.headers);
    expect(github({ source: 'gh-acme' }).receive(request(issue.rawBody, headers), NOW)).toMatchObject({
      event: { source: 'gh-acme', type: 'gh-acme.issues.opened' },
    });
  });

  it('verifies before parsing: an unsigned malformed body is refused for its missing signature', () => {
    expect(github().receive(request('{not json', {}), NOW)).toMatchObject({ status: 400, reason: 'missing_signature' });
  });

  it('refuses a signed body that is not JSON', async () => {
    const headers = await oracleSign('github', '{not json', secret, T, issue.headers);
    expect(github().receive(request('{not json', headers), NOW)).toMatchObject({ status: 400, reason: 'invalid_json' });
  });

  it('applies the configured depth cap', async () => {
    const body = nested(10);
    const headers = await oracleSign('github', body, secret, T, issue.headers);
    expect(github({ maxDepth: 9 }).receive(request(body, headers), NOW)).toMatchObject({ reason: 'too_deep' });
    expect(github({ maxDepth: 10 }).receive(request(body, headers), NOW)).toMatchObject({ ok: true });
  });

  it('applies a default tolerance of 300 s to signed timestamps', async () => {
    const receiver = new WebhookReceiver({ provider: 'stripe', source: 'stripe', secrets: ['whsec_x'] });
    const body = loadFixture('payment_failed').rawBody;
    const headers = await oracleSign('stripe', body, 'whsec_x', T);
    expect(receiver.receive(request(body, headers), T + 300_000)).toMatchObject({ ok: true });
    expect(receiver.receive(request(body, headers), T + 301_000)).toMatchObject({ reason: 'timestamp_out_of_tolerance' });
  });

  it.each([
    ['no secrets', { secrets: [] }],
    ['only blank secrets', { secrets: ['', '\n'] }],
    ['a source name with capitals', { source: 'GitHub' }],
    ['an unknown provider', { provider: 'paypal' }],
    ['a non-positive tolerance', { toleranceS: 0 }],
    ['an unknown option', { extra: true }],
  ])('refuses to be built with %s', (_label, override) => {
    expect(() => github(override)).toThrow();
  });

  it('refuses Standard Webhooks secrets that are not base64', () => {
    expect(() => new WebhookReceiver({ provider: 'standard', source: 'svix', secrets: ['whsec_not base64!'] })).toThrow(/whsec_<base64>/);
  });
});
