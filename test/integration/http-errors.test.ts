import type { ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/app.js';
import { keys, postStandardWebhook } from '../support/mcp-clients.js';
import { type LogLine, startObservedRelay } from '../support/observed-relay.js';
import { skipRedis, useRedisServer } from '../support/redis-server.js';
import { exited, runCli } from '../support/relay-process.js';

/** An answer as a client sees it; `text` is the raw body. */
interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: Record<string, unknown>;
}

/** A raw HTTP/1.1 request: any path bytes, any `Host`. */
function send(relay: Pick<Relay, 'url'>, method: string, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  const url = new URL(relay.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path, method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        let json: Record<string, unknown> = {};
        try {
          json = JSON.parse(text) as Record<string, unknown>;
        } catch {
          // left empty: the assertions on content-type and body say what was wrong
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const STACK_FRAME = /^\s*at .+/m;

/** JSON with a reason code and a sentence, and nothing of the relay's insides. */
function expectJsonError(answer: Answer, status: number, error: string): void {
  expect(answer.status).toBe(status);
  expect(answer.headers['content-type']).toMatch(/^application\/json/);
  expect(answer.json).toEqual({ error, message: expect.any(String) });
  expectNoInternals(answer.text);
}

function expectNoInternals(text: string): void {
  expect(text).not.toMatch(STACK_FRAME);
  expect(text).not.toContain('/node_modules/');
  expect(text).not.toContain(process.cwd());
  expect(text).not.toContain('/work/');
}

const auth = { authorization: `Bearer ${keys.alice}` };
const linesWith = (lines: LogLine[], msg: string, fields: Record<string, unknown> = {}) =>
  lines.filter((l) => l.msg === msg && Object.entries(fields).every(([k, v]) => l[k] === v));

describe('HTTP errors', () => {
  let relay: Relay;
  let lines: LogLine[];
  beforeAll(async () => {
    ({ relay, lines } = await startObservedRelay({ RELAY_API_KEYS: `${keys.alice}:alice` }));
  });
  afterAll(() => relay.close());

  it('answers malformed percent-encoding in a path with 400 JSON, before authentication and whatever the Host, and logs it once', async () => {
    const answer = await send(relay, 'GET', '/customers/%E0%A4%A/context', { host: 'attacker.example' });
    expectJsonError(answer, 400, 'malformed_uri');
    expect(linesWith(lines, 'request refused', { error: 'malformed_uri' })).toEqual([
      expect.objectContaining({ status: 400, method: 'GET', path: '/customers/%E0%A4%A/context' }),
    ]);
  });

  it('answers a customer id the memory refuses with 400 JSON', async () => {
    expectJsonError(await send(relay, 'GET', `/customers/${'c'.repeat(300)}/context`, auth), 400, 'invalid_input');
  });

  it('answers an unknown path with a JSON 404', async () => {
    expectJsonError(await send(relay, 'GET', '/wp-admin/install.php'), 404, 'not_found');
    expectJsonError(await send(relay, 'POST', '/dashboard/'), 404, 'not_found');
  });

  it('answers a known path asked with the wrong method with a JSON 405 and Allow', async () => {
    for (const path of ['/healthz', '/metrics', '/feed', '/customers/c1/context']) {
      const answer = await send(relay, 'POST', path, auth);
      expectJsonError(answer, 405, 'method_not_allowed');
      expect(answer.headers.allow).toBe('GET, HEAD');
    }
    const webhook = await send(relay, 'GET', '/webhooks/stripe');
    expectJsonError(webhook, 405, 'method_not_allowed');
    expect(webhook.headers.allow).toBe('POST');
  });

  it('answers a body /mcp cannot decode with JSON naming the reason', async () => {
    const res = await fetch(`${relay.url}/mcp`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json', 'content-encoding': 'bogus' }, body: '{}' });
    const text = await res.text();
    expect(res.status).toBe(415);
    expect(JSON.parse(text)).toEqual({ error: 'unsupported_media_type', message: expect.any(String) });
    expectNoInternals(text);
  });
});

describe.skipIf(skipRedis)('HTTP errors when the store fails (a relay on Redis)', () => {
  const server = useRedisServer();
  let relay: Relay;
  let lines: LogLine[];
  beforeAll(async () => {
    ({ relay, lines } = await startObservedRelay({ RELAY_STORE: server().url }));
  });
  afterAll(() => relay.close());

  it('answers a failure of its own with 500 JSON and logs the error once', async () => {
    const redis = new Redis(server().url);
    await redis.hset('relay:memory:facts:corrupted', 'plan', '{not json');
    await redis.quit();
    expectJsonError(await send(relay, 'GET', '/customers/corrupted/context'), 500, 'internal_error');
    const logged = linesWith(lines, 'request failed', { status: 500 });
    expect(logged).toEqual([expect.objectContaining({ level: 50, error: 'internal_error', path: '/customers/corrupted/context', err: expect.any(Object) })]);
  });

  it('answers 503 JSON on /healthz, /metrics, /status and /customers while Redis is down, and logs each failure once', async () => {
    await server().kill();
    const health = await send(relay, 'GET', '/healthz');
    expect(health.status).toBe(503);
    expect(health.json).toEqual({ status: 'unavailable', error: 'store_unavailable', message: expect.any(String) });
    expectNoInternals(health.text);
    for (const path of ['/metrics', '/status', '/customers/c1/context', '/status']) {
      expectJsonError(await send(relay, 'GET', path), 503, 'store_unavailable');
    }
    expect(linesWith(lines, 'request failed', { path: '/status' })).toEqual([expect.objectContaining({ status: 503, error: 'store_unavailable', err: expect.any(Object) })]);
  });

  it('logs repeated identical commit failures once, not a stack per provider retry', async () => {
    for (let retry = 0; retry < 4; retry++) {
      const res = await postStandardWebhook(relay, { webhookId: 'msg_retried_during_outage' });
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ error: 'commit_failed' });
    }
    expect(linesWith(lines, 'webhook commit failed')).toEqual([expect.objectContaining({ source: 'standard', err: expect.any(Object) })]);
    await server().restart();
  });
});

describe('HTTP errors of the served relay', () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
  });

  it('writes only JSON lines to stdout and nothing to stderr, whatever a client sends', async () => {
    // Express prints errors to stderr outside production and test: run as a developer would.
    const child = runCli(['serve', '--port', '0'], { RELAY_STORE: 'memory', NODE_ENV: 'development' });
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const stdout: string[] = [];
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        stdout.push(line);
        const found = /"url":"([^"]+)"/.exec(line)?.[1];
        if (found) resolve(found);
      });
      child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
    });
    const relay = { url };
    expectJsonError(await send(relay, 'GET', '/customers/%E0%A4%A/context'), 400, 'malformed_uri');
    expectJsonError(await send(relay, 'GET', '/nowhere'), 404, 'not_found');
    const deep = await fetch(`${url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '['.repeat(5000) + ']'.repeat(5000) });
    expect(deep.status).toBe(400);
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
    expect(stderr).toBe('');
    for (const line of stdout) expect(() => JSON.parse(line), line).not.toThrow();
    const refused = stdout.map((line) => JSON.parse(line) as LogLine).filter((line) => line.msg === 'request refused');
    expect(refused.map((line) => line.error)).toEqual(['malformed_uri', 'too_deep']);
  });
});
