import { once } from 'node:events';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { connect } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Worker } from 'node:worker_threads';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EgressAllowance, ResolvedAddress } from '../../src/outbound/address-policy.js';
import type { OutboundRequest } from '../../src/outbound/outbound-http.js';
import { sendOutbound } from '../../src/outbound/outbound-http.js';

/** Every server and socket here is on loopback: no test sends a packet anywhere else. */

interface Hit {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

interface TestServer {
  port: number;
  hits: Hit[];
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** Servers a test opened, closed after it. */
const opened: TestServer[] = [];

async function listen(handler: Handler): Promise<TestServer> {
  const server = await startServer(handler, '127.0.0.1');
  opened.push(server);
  return server;
}

async function startServer(handler: Handler, host: string): Promise<TestServer> {
  const hits: Hit[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      hits.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() });
      handler(req, res);
    });
  });
  server.listen(0, host);
  await once(server, 'listening');
  const close = async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  };
  return { port: (server.address() as AddressInfo).port, hits, close };
}

const ok: Handler = (_req, res) => res.end('ok');
const never: Handler = () => undefined;

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = await startServer(ok, '127.0.0.1');
  await server.close();
  return server.port;
}

const allow = (...items: EgressAllowance[]) => ({ allow: new Set(items), hosts: new Set<string>() });

function send(url: string, options: Partial<OutboundRequest> = {}) {
  return sendOutbound({ url: new URL(url), method: 'POST', headers: {}, body: Buffer.from('{}'), policy: allow(), self: [], ...options });
}

/** A resolver that answers from a script, one answer per call, and counts its calls. */
function scriptedResolver(...answers: ResolvedAddress[][]) {
  const calls: string[] = [];
  const resolve = async (hostname: string) => {
    calls.push(hostname);
    return answers[Math.min(calls.length, answers.length) - 1]!;
  };
  return { calls, resolve };
}

const v4 = (address: string): ResolvedAddress => ({ address, family: 4 });

afterEach(async () => {
  await Promise.all(opened.splice(0).map((server) => server.close()));
});

describe('sendOutbound: delivery', () => {
  it('POSTs the body and headers to the address, with the URL’s host as Host', async () => {
    const server = await listen((_req, res) => res.writeHead(202, { 'x-answer': 'yes' }).end('accepted'));
    const body = Buffer.from(JSON.stringify({ id: 'evt_1' }));
    const result = await send(`http://127.0.0.1:${server.port}/hooks/a?tenant=t1`, {
      headers: { 'content-type': 'application/json', 'webhook-id': 'msg_1', Host: 'evil.example', 'Content-Length': '1' },
      body,
      policy: allow('loopback'),
    });
    expect(result).toMatchObject({ ok: true, status: 202, truncated: false, address: '127.0.0.1' });
    if (!result.ok) return;
    expect(result.body.toString()).toBe('accepted');
    expect(result.headers['x-answer']).toBe('yes');
    expect(server.hits).toHaveLength(1);
    expect(server.hits[0]).toMatchObject({ method: 'POST', url: '/hooks/a?tenant=t1', body: body.toString() });
    expect(server.hits[0]!.headers).toMatchObject({
      host: `127.0.0.1:${server.port}`,
      'content-type': 'application/json',
      'webhook-id': 'msg_1',
      'content-length': String(body.length),
    });
  });

  it('connects to the address a listed host resolved to, naming the host in Host', async () => {
    const server = await listen(ok);
    const { calls, resolve } = scriptedResolver([v4('127.0.0.1')]);
    const result = await send(`http://hooks.test:${server.port}/in`, { policy: { allow: new Set(), hosts: new Set(['hooks.test']) }, resolve, method: 'GET', body: undefined });
    expect(result).toMatchObject({ ok: true, status: 200, address: '127.0.0.1' });
    expect(calls).toEqual(['hooks.test']);
    expect(server.hits[0]).toMatchObject({ method: 'GET', url: '/in' });
    expect(server.hits[0]!.headers.host).toBe(`hooks.test:${server.port}`);
  });

  it('returns a redirect as it is and never follows it', async () => {
    const elsewhere = await listen(ok);
    const server = await listen((_req, res) => res.writeHead(302, { location: `http://127.0.0.1:${elsewhere.port}/stolen` }).end());
    const result = await send(`http://127.0.0.1:${server.port}/`, { policy: allow('loopback') });
    expect(result).toMatchObject({ ok: true, status: 302 });
    expect(result.ok && result.headers.location).toBe(`http://127.0.0.1:${elsewhere.port}/stolen`);
    expect(server.hits).toHaveLength(1);
    expect(elsewhere.hits).toHaveLength(0);
  });

  it('reads at most 64 KiB of the body and says it cut the rest', async () => {
    const big = Buffer.alloc(200_000, 'abcdefgh');
    const server = await listen((_req, res) => res.end(big));
    const result = await send(`http://127.0.0.1:${server.port}/`, { policy: allow('loopback') });
    expect(result).toMatchObject({ ok: true, status: 200, truncated: true });
    expect(result.ok && result.body.equals(big.subarray(0, 65_536))).toBe(true);
  });

  it('reads a body of exactly the bound whole, and honours a smaller bound', async () => {
    const exact = Buffer.alloc(65_536, 'x');
    const server = await listen((_req, res) => res.end(exact));
    const whole = await send(`http://127.0.0.1:${server.port}/`, { policy: allow('loopback') });
    expect(whole).toMatchObject({ ok: true, truncated: false });
    expect(whole.ok && whole.body.length).toBe(65_536);
    const small = await send(`http://127.0.0.1:${server.port}/`, { policy: allow('loopback'), maxResponseBytes: 10 });
    expect(small).toMatchObject({ ok: true, truncated: true });
    expect(small.ok && small.body.toString()).toBe('xxxxxxxxxx');
  });
});

describe('sendOutbound: failures', () => {
  it('times out a server that never answers', async () => {
    const server = await listen(never);
    const started = Date.now();
    const result = await send(`http://127.0.0.1:${server.port}/`, { policy: allow('loopback'), timeoutMs: 200 });
    expect(result).toMatchObject({ ok: false, reason: 'timeout' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(server.hits).toHaveLength(1);
  });

  it('counts reading the response in the timeout', async () => {
    const server = await listen((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
    });
    const result = await send(`http://127.0.0.1:${server.port}/`, { policy: allow('loopback'), timeoutMs: 300 });
    expect(result).toMatchObject({ ok: false, reason: 'timeout' });
  });

  it('times out a connection that is never accepted', async () => {
    const listener = await unacceptingListener();
    try {
      const started = Date.now();
      const result = await send(`http://127.0.0.1:${listener.port}/`, { policy: allow('loopback'), connectTimeoutMs: 300, timeoutMs: 10_000 });
      expect(result).toMatchObject({ ok: false, reason: 'timeout', detail: expect.stringContaining('no connection') });
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await listener.close();
    }
  });

  it('reports a closed port as connection_refused', async () => {
    const port = await closedPort();
    expect(await send(`http://127.0.0.1:${port}/`, { policy: allow('loopback') })).toMatchObject({ ok: false, reason: 'connection_refused' });
  });

  it('reports a response cut off mid-body as a connection error', async () => {
    const server = await listen((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial', () => res.socket?.destroy());
    });
    expect(await send(`http://127.0.0.1:${server.port}/`, { policy: allow('loopback') })).toMatchObject({ ok: false, reason: 'connection_error' });
  });

  it('reports a peer that does not speak TLS as tls_error', async () => {
    const server = await listen(ok);
    const result = await send(`https://127.0.0.1:${server.port}/`, { policy: allow('loopback') });
    expect(result).toMatchObject({ ok: false, reason: 'tls_error' });
  });

  it('sends the host name as SNI while connecting to the checked address', async () => {
    const names: string[] = [];
    const tls = createTlsServer({ SNICallback: (name, done) => (names.push(name), done(new Error('no certificate here'))) });
    tls.listen(0, '127.0.0.1');
    await once(tls, 'listening');
    try {
      const { calls, resolve } = scriptedResolver([v4('127.0.0.1')]);
      const port = (tls.address() as AddressInfo).port;
      const result = await send(`https://hooks.test.:${port}/`, { policy: { allow: new Set(), hosts: new Set(['hooks.test']) }, resolve });
      expect(result.ok).toBe(false);
      expect(names).toEqual(['hooks.test']);
      expect(calls).toEqual(['hooks.test.']);
    } finally {
      tls.close();
    }
  });

  it('stops when the signal aborts, and does not start when it already has', async () => {
    const server = await listen(never);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const result = await send(`http://127.0.0.1:${server.port}/`, { policy: allow('loopback'), signal: controller.signal });
    expect(result).toMatchObject({ ok: false, reason: 'connection_error', detail: expect.stringContaining('aborted') });
    expect(await send(`http://127.0.0.1:${server.port}/`, { policy: allow('loopback'), signal: controller.signal })).toMatchObject({ ok: false, reason: 'connection_error' });
    expect(server.hits).toHaveLength(1);
  });
});

describe('sendOutbound: refusals, before any connection', () => {
  let v4Server: TestServer;
  let v6Server: TestServer;
  beforeAll(async () => {
    v4Server = await startServer(ok, '127.0.0.1');
    v6Server = await startServer(ok, '::1');
  });
  afterAll(async () => {
    await Promise.all([v4Server.close(), v6Server.close()]);
  });

  const loopbackForms: [string, () => string][] = [
    ['127.1', () => `http://127.1:${v4Server.port}/`],
    ['0x7f.1', () => `http://0x7f.1:${v4Server.port}/`],
    ['2130706433', () => `http://2130706433:${v4Server.port}/`],
    ['[::ffff:127.0.0.1]', () => `http://[::ffff:127.0.0.1]:${v4Server.port}/`],
    ['localhost.', () => `http://localhost.:${v4Server.port}/`],
    ['[::1]', () => `http://[::1]:${v6Server.port}/`],
  ];
  const hitCount = () => v4Server.hits.length + v6Server.hits.length;

  it.each(loopbackForms)('refuses %s when loopback is not allowed', async (_form, url) => {
    const before = hitCount();
    for (const policy of [allow(), allow('private', 'self')]) {
      expect(await send(url(), { policy, resolve: () => Promise.reject(new Error('no lookup expected')) })).toMatchObject({ ok: false, reason: 'address_refused' });
    }
    expect(hitCount()).toBe(before);
  });

  it.each(loopbackForms)('reaches the server through %s once loopback is allowed', async (_form, url) => {
    const before = hitCount();
    expect(await send(url(), { policy: allow('loopback') })).toMatchObject({ ok: true, status: 200 });
    expect(hitCount()).toBe(before + 1);
  });

  it('refuses the relay’s own address even with loopback allowed, and reaches it with self', async () => {
    const url = `http://127.0.0.1:${v4Server.port}/webhooks/x`;
    const before = v4Server.hits.length;
    for (const address of ['127.0.0.1', '0.0.0.0']) {
      const self = [{ address, port: v4Server.port }];
      expect(await send(url, { policy: allow('loopback'), self })).toMatchObject({ ok: false, reason: 'self' });
    }
    expect(v4Server.hits.length).toBe(before);
    expect(await send(url, { policy: allow('loopback', 'self'), self: [{ address: '127.0.0.1', port: v4Server.port }] })).toMatchObject({ ok: true });
    expect(v4Server.hits.length).toBe(before + 1);
  });

  it('refuses a URL with userinfo or a fragment, and a scheme other than http and https', async () => {
    const before = v4Server.hits.length;
    const policy = allow('loopback');
    expect(await send(`http://u:p@127.0.0.1:${v4Server.port}/`, { policy })).toMatchObject({ ok: false, reason: 'invalid_url' });
    expect(await send(`http://127.0.0.1:${v4Server.port}/#x`, { policy })).toMatchObject({ ok: false, reason: 'invalid_url' });
    expect(await send(`ftp://127.0.0.1:${v4Server.port}/`, { policy })).toMatchObject({ ok: false, reason: 'scheme' });
    expect(v4Server.hits.length).toBe(before);
  });

  it('refuses plain http to a public address without connecting', async () => {
    const { calls, resolve } = scriptedResolver([v4('8.8.8.8')]);
    expect(await send('http://hooks.test/', { resolve })).toMatchObject({ ok: false, reason: 'scheme' });
    expect(calls).toEqual(['hooks.test']);
  });

  it('reports a failed or empty lookup as dns_error', async () => {
    const notFound = Object.assign(new Error('getaddrinfo ENOTFOUND hooks.test'), { code: 'ENOTFOUND' });
    expect(await send('https://hooks.test/', { resolve: () => Promise.reject(notFound) })).toMatchObject({ ok: false, reason: 'dns_error', detail: expect.stringContaining('ENOTFOUND') });
    expect(await send('https://hooks.test/', { resolve: async () => [] })).toMatchObject({ ok: false, reason: 'dns_error' });
  });

  it('refuses a host answering a public and a loopback address without connecting to either', async () => {
    const before = v4Server.hits.length;
    const { calls, resolve } = scriptedResolver([v4('8.8.8.8'), v4('127.0.0.1')]);
    const result = await send(`https://rebind.test:${v4Server.port}/`, { resolve });
    expect(result).toMatchObject({ ok: false, reason: 'address_refused', detail: expect.stringContaining('127.0.0.1') });
    expect(calls).toHaveLength(1);
    expect(v4Server.hits.length).toBe(before);
  });

  it('looks a host up once per call: a public answer, then a loopback one, never reach the loopback server', async () => {
    const before = v4Server.hits.length;
    const { calls, resolve } = scriptedResolver([v4('8.8.8.8')], [v4('127.0.0.1')]);
    expect(await send(`http://rebind.test:${v4Server.port}/`, { policy: allow('loopback'), resolve })).toMatchObject({ ok: false, reason: 'scheme' });
    expect(calls).toHaveLength(1);
    expect(v4Server.hits.length).toBe(before);
  });

  it('connects to the address it checked, whatever a later lookup would answer', async () => {
    const before = v4Server.hits.length;
    const { calls, resolve } = scriptedResolver([v4('127.0.0.1')], [v4('127.0.0.2')]);
    const url = `http://rebind.test:${v4Server.port}/`;
    expect(await send(url, { policy: allow('loopback'), resolve })).toMatchObject({ ok: true, status: 200, address: '127.0.0.1' });
    expect(calls).toHaveLength(1);
    expect(v4Server.hits.length).toBe(before + 1);
    expect(await send(url, { policy: allow('loopback'), resolve })).toMatchObject({ ok: false, reason: 'connection_refused' });
    expect(calls).toHaveLength(2);
  });
});

/**
 * A loopback listener whose accept queue fills: its thread blocks right after listening, so
 * once the queue is full the next connection attempt never completes.
 */
async function unacceptingListener(): Promise<{ port: number; close(): Promise<void> }> {
  const gate = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const server = require('node:net').createServer();
     server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
       parentPort.postMessage(server.address().port);
       Atomics.wait(workerData, 0, 0);
     });`,
    { eval: true, workerData: gate },
  );
  const [port] = (await once(worker, 'message')) as [number];
  const fillers: Socket[] = [];
  for (let i = 0; i < 16; i++) {
    const socket = connect(port, '127.0.0.1').on('error', () => undefined);
    fillers.push(socket);
    const connected = await Promise.race([once(socket, 'connect').then(() => true), new Promise((r) => setTimeout(r, 200, false))]);
    if (!connected) break;
  }
  return {
    port,
    close: async () => {
      for (const socket of fillers) socket.destroy();
      Atomics.store(gate, 0, 1);
      Atomics.notify(gate, 0);
      await worker.terminate();
    },
  };
}
