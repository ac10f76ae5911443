import { createServer, request as httpRequest } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/app.js';
import { createHttpApp } from '../../src/app.js';
import { MemorySubscriptionStore } from '../../src/outbound/memory/subscription-store.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { loadSample } from '../../src/ingest/samples.js';
import { SqliteEventLog } from '../../src/log/sqlite/event-log.js';
import { MemoryCustomerMemory } from '../../src/customer-memory/memory/customer-memory.js';
import { createLogger } from '../../src/observe/logger.js';
import { secretEnv, startTestRelay, testSecrets } from '../support/relay.js';
import { oracleSign } from '../support/webhook-oracles.js';

type Answer = { status: number; body: Record<string, unknown> };

/** POSTs with node:http so a response sent before the body is fully written is still read. */
function rawPost(url: string, headers: Record<string, string>, chunks: Buffer[]): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', () => undefined);
    const writeNext = (i: number) => {
      if (i === chunks.length) return req.end();
      if (req.destroyed) return;
      req.write(chunks[i], () => writeNext(i + 1));
    };
    writeNext(0);
    setTimeout(() => reject(new Error('no response')), 10_000).unref();
  });
}

async function post(relay: Relay, route: string, body: string, headers: Record<string, string>): Promise<Answer> {
  const res = await fetch(`${relay.url}/webhooks/${route}`, { method: 'POST', body, headers });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const json = { 'content-type': 'application/json' };
const stripeBody = loadSample('payment_failed').rawBody.toString('utf8');
const signStripe = (body: string, atMs = Date.now(), secret: string = testSecrets.stripe) => oracleSign('stripe', body, secret, atMs, json);

describe('webhook rejections: a clear error, nothing appended', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await startTestRelay({ ZENDESK_WEBHOOK_SECRET: '', RELAY_MAX_BODY_BYTES: '65536' });
  });
  afterAll(() => relay.close());
  afterEach(async () => {
    expect(await relay.log.head()).toBeNull();
  });

  const cases: [string, () => Promise<Answer>, number, string][] = [
    ['a tampered body', async () => post(relay, 'stripe', stripeBody.replace('card_declined', 'card_approved'), await signStripe(stripeBody)), 401, 'signature_mismatch'],
    ['a secret we do not hold', async () => post(relay, 'stripe', stripeBody, await signStripe(stripeBody, Date.now(), 'whsec_other')), 401, 'signature_mismatch'],
    ['a timestamp 10 minutes old', async () => post(relay, 'stripe', stripeBody, await signStripe(stripeBody, Date.now() - 600_000)), 401, 'timestamp_out_of_tolerance'],
    ['a timestamp 10 minutes ahead', async () => post(relay, 'stripe', stripeBody, await signStripe(stripeBody, Date.now() + 600_000)), 401, 'timestamp_out_of_tolerance'],
    ['no signature header', async () => post(relay, 'stripe', stripeBody, json), 400, 'missing_signature'],
    ['a garbled signature header', async () => post(relay, 'github', '{}', { ...json, 'x-hub-signature-256': 'sha256=zz', 'x-github-delivery': 'd1', 'x-github-event': 'ping' }), 400, 'malformed_signature'],
    ['a body that is not JSON', async () => post(relay, 'stripe', '{nope', await signStripe('{nope')), 400, 'invalid_json'],
    ['JSON nested 100 deep', async () => {
      const deep = `${'['.repeat(100)}${']'.repeat(100)}`;
      return post(relay, 'stripe', deep, await signStripe(deep));
    }, 400, 'too_deep'],
    ['a non-JSON content type', async () => post(relay, 'stripe', stripeBody, { ...(await signStripe(stripeBody)), 'content-type': 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type'],
    ['an unknown source', async () => post(relay, 'acme', '{}', json), 404, 'unknown_source'],
    ['a built-in source without a secret', async () => post(relay, 'zendesk', '{}', json), 404, 'unknown_source'],
    ['a declared body over the limit', async () => rawPost(`${relay.url}/webhooks/stripe`, { ...json, 'content-length': String(200_000) }, [Buffer.alloc(200_000, 32)]), 413, 'body_too_large'],
    ['a chunked body that grows past the limit', async () => rawPost(`${relay.url}/webhooks/stripe`, json, Array.from({ length: 64 }, () => Buffer.alloc(16_384, 32))), 413, 'body_too_large'],
  ];
  for (const [what, send, status, reason] of cases) {
    it(`answers ${status} ${reason} to ${what}`, async () => {
      const answer = await send();
      expect(answer).toMatchObject({ status, body: { error: reason, message: expect.any(String) } });
      const text = JSON.stringify(answer.body);
      for (const secret of Object.values(testSecrets)) expect(text).not.toContain(secret);
      expect(text).not.toContain('card_declined');
    });
  }

  it('tells how to configure an unknown or unconfigured source', async () => {
    expect((await post(relay, 'acme', '{}', json)).body.message).toBe(
      'no webhook source "acme": declare it with RELAY_SOURCES=acme:<stripe|shopify|zendesk|github|standard|mcp-events> and set ACME_WEBHOOK_SECRET',
    );
    expect((await post(relay, 'zendesk', '{}', json)).body.message).toContain('set ZENDESK_WEBHOOK_SECRET');
  });
});

describe('webhook sources from configuration', () => {
  it('serves an extra Standard-Webhooks source named in RELAY_SOURCES, stamping its name on events', async () => {
    const relay = await startTestRelay({ RELAY_SOURCES: 'acme:standard', ACME_WEBHOOK_SECRET: testSecrets.standard });
    const sample = loadSample('standard');
    const headers = await oracleSign('standard', sample.rawBody.toString(), testSecrets.standard, Date.now(), { ...sample.headers, ...json });
    const answer = await post(relay, 'acme', sample.rawBody.toString(), headers);
    expect(answer.status).toBe(200);
    expect((await relay.log.read({ after: null })).events[0]).toMatchObject({ source: 'acme', type: 'acme.invoice.paid' });
    await relay.close();
  });

  it.each([
    [{ RELAY_SOURCES: 'acme:carrier-pigeon' }, /^RELAY_SOURCES="acme:carrier-pigeon": "acme:carrier-pigeon" must be <name>:<provider>/],
    [{ RELAY_SOURCES: 'Acme:standard' }, /is not a source name/],
    [{ RELAY_SOURCES: 'stripe:standard' }, /declared twice/],
    [{ STANDARD_WEBHOOK_SECRET: 'whsec_not*base64!' }, /^STANDARD_WEBHOOK_SECRET: Standard Webhooks secrets are whsec_<base64>/],
  ])('refuses to start with %j', async (env, message) => {
    const attempt = startTestRelay(env);
    await expect(attempt).rejects.toThrow(ConfigError);
    await expect(attempt).rejects.toThrow(message);
  });
});

describe('webhook commit failures', () => {
  const dir = mkdtempSync(join(tmpdir(), 'relay-commit-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('answers 503 when the store cannot commit, and 200 to the provider retry once it can', async () => {
    const path = join(dir, 'relay.db');
    const log = new SqliteEventLog({ path, busyTimeoutMs: 20 });
    const config = loadConfig({ ...secretEnv, RELAY_STORE: 'memory' });
    const server = createServer(createHttpApp({ log, memory: new MemoryCustomerMemory(), webhooks: new MemorySubscriptionStore() }, config, createLogger('silent')).listener).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/webhooks/stripe`;
    const blocker = new Database(path);
    blocker.exec('BEGIN IMMEDIATE');
    const failed = await fetch(url, { method: 'POST', body: stripeBody, headers: await signStripe(stripeBody) });
    expect(failed.status).toBe(503);
    expect(await failed.json()).toEqual({ error: 'commit_failed', message: 'the event could not be stored; retry later' });
    blocker.exec('ROLLBACK');
    blocker.close();
    expect(await log.head()).toBeNull();
    const retried = await fetch(url, { method: 'POST', body: stripeBody, headers: await signStripe(stripeBody) });
    expect(retried.status).toBe(200);
    server.close();
    await log.close();
  });
});
