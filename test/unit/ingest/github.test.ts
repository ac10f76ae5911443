import { describe, expect, it } from 'vitest';
import { githubProvider } from '../../../src/ingest/providers/github.js';
import { NOW, loadFixture, request } from '../../support/webhook-oracles.js';
import { describeVerifier } from './verifier-suite.js';

const secret = 'gh_vector_secret_0001';
const issue = loadFixture('github_issue');
const v5Signature = 'sha256=a41803655f495f30cbcf94a6aff71c4561d8da6aa66eb11a104d64196802d5f8';
const options = (secrets: string[]) => ({ secrets, nowMs: NOW, toleranceS: 300 });

describeVerifier({
  kind: 'github',
  name: 'GitHub',
  secret,
  previousSecret: 'gh_vector_secret_0000',
  body: issue.rawBody,
  headers: issue.headers,
  signatureHeader: 'x-hub-signature-256',
  withMac: (mac) => `sha256=${mac}`,
  timestamped: false,
});

describe('GitHub verification specifics', () => {
  it("accepts the docs' own vector", () => {
    const headers = { 'x-hub-signature-256': 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17' };
    expect(githubProvider.verify(request('Hello, World!', headers), options(["It's a Secret to Everybody"]))).toEqual({ ok: true });
  });

  it('accepts the reference vector V5', () => {
    const headers = { ...issue.headers, 'x-hub-signature-256': v5Signature };
    expect(githubProvider.verify(request(issue.rawBody, headers), options([secret]))).toEqual({ ok: true });
  });

  it('rejects upper-case hex, as GitHub only sends lower-case', () => {
    const headers = { 'x-hub-signature-256': `sha256=${v5Signature.slice(7).toUpperCase()}` };
    expect(githubProvider.verify(request(issue.rawBody, headers), options([secret]))).toMatchObject({ reason: 'malformed_signature' });
  });

  it('does not fall back to the legacy SHA-1 signature', () => {
    const headers = { 'x-hub-signature': 'sha1=a9d4c09b610952ce7c8fbb1c98cf8188b8c9d0ac' };
    expect(githubProvider.verify(request(issue.rawBody, headers), options([secret]))).toMatchObject({ reason: 'missing_signature' });
  });
});

describe('GitHub normalization', () => {
  it('keeps issues.opened as github.issues.opened about the repository, deduplicated on the delivery GUID', () => {
    expect(githubProvider.normalize('github', issue.body, request('', issue.headers))).toEqual({
      ok: true,
      event: {
        source: 'github',
        type: 'github.issues.opened',
        sourceType: 'issues.opened',
        sourceEventId: '72d3162e-cc78-11e3-81ab-4c9367dc0958',
        subject: 'repo:octocat/Hello-World',
        data: {
          event: 'issues',
          action: 'opened',
          repository: 'octocat/Hello-World',
          sender: 'octocat',
          number: 1347,
          title: 'Checkout fails with 500 on Safari',
          hookId: '292430182',
        },
        raw: issue.body,
      },
    });
  });

  it('uses the bare event name when the payload has no action', () => {
    const headers = { 'x-github-event': 'ping', 'x-github-delivery': 'd1' };
    expect(githubProvider.normalize('github', { zen: 'Keep it logically awesome.' }, request('', headers))).toMatchObject({
      event: { type: 'github.ping', sourceType: 'ping' },
    });
  });

  it('refuses a delivery without X-GitHub-Delivery', () => {
    expect(githubProvider.normalize('github', issue.body, request('', { 'x-github-event': 'issues' }))).toMatchObject({
      status: 400,
      reason: 'missing_event_id',
    });
  });

  it('refuses a delivery without X-GitHub-Event', () => {
    expect(githubProvider.normalize('github', issue.body, request('', { 'x-github-delivery': 'd1' }))).toMatchObject({
      reason: 'missing_event_type',
    });
  });
});
