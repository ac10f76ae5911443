import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Relay } from '../../src/app.js';
import { signDelivery } from '../../src/ingest/sign.js';
import { startTestRelay, testSecrets } from './relay.js';
import { Inbox, SseReader, WAIT_MS, readRpc } from './sse-reader.js';

export { Inbox, type RpcMessage, SseReader, WAIT_MS, isEventFrame, readRpc, rpcOf } from './sse-reader.js';

/**
 * Clients for the MCP integration tests: real SDK clients of both eras, raw HTTP requests
 * for what the SDKs hide (SSE ids, headers, error statuses), an SSE reader built on
 * eventsource-parser, and a webhook sender. Every wait is on something arriving, bounded
 * by a generous deadline so a loaded machine slows the suite down instead of failing it.
 */

export const MODERN_VERSION = '2026-07-28';
export const LEGACY_VERSION = '2025-11-25';
export const keys = { alice: 'alice-test-key-0123456789', bob: 'bob-test-key-0123456789ab' } as const;
const clientInfo = { name: 'relay-integration-test', version: '1.0.0' };

/** A relay that knows the principals `alice` and `bob`. */
export function startMcpRelay(env: Record<string, string> = {}): Promise<Relay> {
  return startTestRelay({ RELAY_API_KEYS: `${keys.alice}:alice,${keys.bob}:bob`, ...env });
}

/** Posts a signed Standard Webhooks delivery (a retry when `webhookId` was sent before). */
export function postStandardWebhook(
  relay: Pick<Relay, 'url'>,
  options: { webhookId?: string; type?: string; customerId?: string; padding?: number } = {},
): Promise<Response> {
  const data = { customer_id: options.customerId ?? 'cus_test', note: 'x'.repeat(options.padding ?? 0) };
  const rawBody = Buffer.from(JSON.stringify({ type: options.type ?? 'payment.failed', timestamp: new Date().toISOString(), data }));
  const webhookId = options.webhookId ?? `msg_${randomUUID()}`;
  const headers = signDelivery('standard', rawBody, { secret: testSecrets.standard, nowMs: Date.now(), headers: { 'webhook-id': webhookId } });
  return fetch(`${relay.url}/webhooks/standard`, { method: 'POST', headers, body: rawBody });
}

/** Posts a signed Standard Webhooks delivery with a fresh id; resolves to the event's log id. */
export async function ingest(relay: Pick<Relay, 'url'>, options: { type?: string; customerId?: string; padding?: number } = {}): Promise<string> {
  const res = await postStandardWebhook(relay, options);
  const body = (await res.json()) as { id?: string };
  if (res.status !== 200 || typeof body.id !== 'string') throw new Error(`webhook refused: ${res.status} ${JSON.stringify(body)}`);
  return body.id;
}

/** The ids the log holds after `cursor`, in log order: the oracle streams are compared with. */
export async function logIdsAfter(relay: Relay, cursor: string): Promise<string[]> {
  return (await relay.log.read({ after: cursor, limit: 10_000 })).events.map((e) => e.id);
}

export type HeaderOverrides = Record<string, string | undefined>;

function definedHeaders(headers: HeaderOverrides): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

let nextId = 1;

/** POSTs one 2026-07-28 request: `_meta` envelope plus the transport headers; `headers` overrides (undefined removes). */
export function modernPost(
  relay: Pick<Relay, 'url'>,
  method: string,
  params: Record<string, unknown>,
  options: { key?: string; capabilities?: Record<string, unknown> | null; version?: string; headers?: HeaderOverrides; signal?: AbortSignal } = {},
): Promise<Response> {
  const version = options.version ?? MODERN_VERSION;
  const envelope: Record<string, unknown> = { 'io.modelcontextprotocol/protocolVersion': version, 'io.modelcontextprotocol/clientInfo': clientInfo };
  if (options.capabilities !== null) envelope['io.modelcontextprotocol/clientCapabilities'] = options.capabilities ?? { events: {} };
  const headers = {
    authorization: `Bearer ${options.key ?? keys.alice}`,
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': version,
    'mcp-method': method,
    ...options.headers,
  };
  return fetch(`${relay.url}/mcp`, {
    method: 'POST',
    headers: definedHeaders(headers),
    body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params: { ...params, _meta: envelope } }),
    signal: options.signal,
  });
}

/** A raw 2026-07-28 `events/stream`, read frame by frame. */
export async function modernStream(relay: Pick<Relay, 'url'>, params: Record<string, unknown>, key: string = keys.alice): Promise<SseReader> {
  const abort = new AbortController();
  const requestId = nextId;
  const res = await modernPost(relay, 'events/stream', { name: 'cx_events', ...params }, { key, signal: abort.signal });
  if (!res.headers.get('content-type')?.includes('text/event-stream')) throw new Error(`no stream: ${res.status} ${await res.text()}`);
  const reader = new SseReader(res, abort);
  reader.requestId = requestId;
  return reader;
}

/** A 2025-11-25 session opened by hand: initialize, initialized, then requests with its id. */
export interface RawSession {
  id: string;
  post(message: Record<string, unknown>, headers?: HeaderOverrides, signal?: AbortSignal): Promise<Response>;
  get(headers?: HeaderOverrides, signal?: AbortSignal): Promise<Response>;
  /** POSTs `events/stream` and reads the SSE response. */
  stream(params: Record<string, unknown>): Promise<SseReader>;
  /** GET with `Last-Event-ID`: the legacy resume of a push stream. */
  resume(lastEventId: string): Promise<SseReader>;
}

export async function rawLegacySession(relay: Relay, options: { key?: string; capabilities?: Record<string, unknown> } = {}): Promise<RawSession> {
  const key = options.key ?? keys.alice;
  const base = { authorization: `Bearer ${key}`, accept: 'application/json, text/event-stream' };
  const init = await fetch(`${relay.url}/mcp`, {
    method: 'POST',
    headers: { ...base, 'content-type': 'application/json' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: LEGACY_VERSION, capabilities: options.capabilities ?? { experimental: { events: {} } }, clientInfo },
    }),
  });
  const id = init.headers.get('mcp-session-id');
  const answer = await readRpc(init);
  if (!id || !answer.result) throw new Error(`initialize failed: ${init.status} ${JSON.stringify(answer)}`);
  const sessionHeaders = { ...base, 'mcp-session-id': id, 'mcp-protocol-version': LEGACY_VERSION };
  const session: RawSession = {
    id,
    post: (message, headers = {}, signal) =>
      fetch(`${relay.url}/mcp`, {
        method: 'POST',
        headers: definedHeaders({ ...sessionHeaders, 'content-type': 'application/json', ...headers }),
        body: JSON.stringify({ jsonrpc: '2.0', ...message }),
        signal,
      }),
    get: (headers = {}, signal) => fetch(`${relay.url}/mcp`, { headers: definedHeaders({ ...sessionHeaders, accept: 'text/event-stream', ...headers }), signal }),
    async stream(params) {
      const abort = new AbortController();
      const requestId = nextId++;
      const res = await session.post({ id: requestId, method: 'events/stream', params: { name: 'cx_events', ...params } }, {}, abort.signal);
      if (!res.headers.get('content-type')?.includes('text/event-stream')) throw new Error(`no stream: ${res.status} ${await res.text()}`);
      const reader = new SseReader(res, abort);
      reader.requestId = requestId;
      return reader;
    },
    async resume(lastEventId) {
      const abort = new AbortController();
      const res = await session.get({ 'last-event-id': lastEventId }, abort.signal);
      if (res.status !== 200) throw new Error(`resume refused: ${res.status} ${await res.text()}`);
      return new SseReader(res, abort);
    },
  };
  const initialized = await session.post({ method: 'notifications/initialized' });
  if (initialized.status !== 202) throw new Error(`notifications/initialized: ${initialized.status}`);
  return session;
}

/** A notification as a test sees it. */
export type Received = { method: string; params?: Record<string, any> };

export interface Agent<C> {
  client: C;
  notifications: Inbox<Received>;
  /** Notifications with this method received so far. */
  received(method: string): Received[];
  close(): Promise<void>;
}

function agent<C extends { close(): Promise<void> }>(client: C, notifications: Inbox<Received>): Agent<C> {
  return {
    client,
    notifications,
    received: (method) => notifications.items.filter((n) => n.method === method),
    close: () => client.close(),
  };
}

/** The v1 SDK client as a 2025-11-25 agent; `events` declares `experimental.events`. */
export async function connectLegacyAgent(
  relay: Relay,
  options: { key?: string; events?: boolean; fetch?: typeof fetch } = {},
): Promise<Agent<LegacyClient>> {
  const capabilities = options.events === false ? {} : { experimental: { events: {} } };
  const client = new LegacyClient(clientInfo, { capabilities });
  const notifications = new Inbox<Received>();
  client.fallbackNotificationHandler = async (n) => notifications.push({ method: n.method, params: n.params as Record<string, any> | undefined });
  const transport = new LegacyTransport(new URL(`${relay.url}/mcp`), {
    requestInit: { headers: { Authorization: `Bearer ${options.key ?? keys.alice}` } },
    reconnectionOptions: { maxRetries: 20, initialReconnectionDelay: 100, maxReconnectionDelay: 1000, reconnectionDelayGrowFactor: 1.5 },
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  transport.onerror = () => undefined;
  await client.connect(transport);
  return agent(client, notifications);
}

/** The v2 SDK client negotiating 2026-07-28; `events` declares `events` and `experimental.events`. */
export async function connectModernAgent(relay: Relay, options: { key?: string; events?: boolean } = {}): Promise<Agent<ModernClient>> {
  const capabilities = options.events === false ? {} : { events: {}, experimental: { events: {} } };
  const client = new ModernClient(clientInfo, { versionNegotiation: { mode: 'auto' }, capabilities: capabilities as never });
  const notifications = new Inbox<Received>();
  client.fallbackNotificationHandler = async (n) => notifications.push({ method: n.method, params: n.params as Record<string, any> | undefined });
  const transport = new ModernTransport(new URL(`${relay.url}/mcp`), {
    requestInit: { headers: { Authorization: `Bearer ${options.key ?? keys.alice}` } },
  });
  await client.connect(transport);
  return agent(client, notifications);
}

/** A tool result as both eras give it: the JSON text, parsed, and the error flag. */
export function toolOutcome(result: unknown): { isError: boolean; body: Record<string, any> } {
  const r = result as { isError?: boolean; content?: { type: string; text?: string }[]; structuredContent?: Record<string, any> };
  const text = r.content?.find((c) => c.type === 'text')?.text ?? '{}';
  return { isError: r.isError === true, body: r.structuredContent ?? (JSON.parse(text) as Record<string, any>) };
}

/** Calls `probe` until it yields a value (polling a condition the server offers no event for). */
export async function eventually<T>(probe: () => Promise<T | undefined>, what: string, ms = WAIT_MS): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * A raw HTTP/1.1 request through node:http, for what fetch will not send (a foreign
 * `Host`), answered as status, headers and text.
 */
export function rawHttp(relay: Relay, options: { method?: string; headers: Record<string, string>; body?: string }) {
  const url = new URL(`${relay.url}/mcp`);
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: options.method ?? 'POST', headers: options.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/**
 * A fetch that lets a test watch an SDK transport's HTTP traffic: the `Last-Event-ID` of
 * every GET, and the end of every SSE response body, labelled `GET` or by the JSON-RPC
 * method POSTed (`events/stream`).
 */
export function watchedFetch() {
  const resumes: (string | null)[] = [];
  const streamEnds = new Inbox<string>();
  const watched: typeof fetch = async (input, init) => {
    const method = init?.method ?? 'GET';
    if (method === 'GET') resumes.push(new Headers(init?.headers).get('last-event-id'));
    const label = method === 'GET' ? 'GET' : typeof init?.body === 'string' ? String((JSON.parse(init.body) as { method?: string }).method) : method;
    const res = await fetch(input, init);
    if (!res.body || !res.headers.get('content-type')?.includes('text/event-stream')) return res;
    const tap = new TransformStream<Uint8Array, Uint8Array>({ flush: () => streamEnds.push(label) });
    res.body.pipeTo(tap.writable).catch(() => streamEnds.push(label));
    return new Response(tap.readable, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
  return { fetch: watched, resumes, streamEnds };
}

/**
 * A 2026-07-28 `events/stream` on a bare TCP socket that stops reading once the response
 * has begun: a reader that never reads, so the relay's writes pile up in the kernel and then
 * in the relay. `drain()` reads at last and resolves with the byte count once the server has
 * closed the connection.
 */
export async function openUnreadStream(relay: Relay, key: string) {
  const url = new URL(relay.url);
  const socket = connect(Number(url.port), url.hostname);
  await once(socket, 'connect');
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: nextId++,
    method: 'events/stream',
    params: {
      name: 'cx_events',
      cursor: null,
      _meta: { 'io.modelcontextprotocol/protocolVersion': MODERN_VERSION, 'io.modelcontextprotocol/clientCapabilities': { events: {} } },
    },
  });
  const head = [
    'POST /mcp HTTP/1.1',
    `Host: ${url.host}`,
    `Authorization: Bearer ${key}`,
    'Content-Type: application/json',
    'Accept: application/json, text/event-stream',
    `MCP-Protocol-Version: ${MODERN_VERSION}`,
    'Mcp-Method: events/stream',
    `Content-Length: ${Buffer.byteLength(body)}`,
  ];
  socket.write(`${head.join('\r\n')}\r\n\r\n${body}`);
  const [start] = (await once(socket, 'data')) as [Buffer];
  socket.pause();
  if (!/^HTTP\/1\.1 200 .*text\/event-stream/is.test(start.toString('latin1'))) throw new Error(`no stream: ${start.toString('latin1')}`);
  return {
    async drain(): Promise<number> {
      let bytes = 0;
      socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
      socket.on('error', () => undefined);
      const closed = once(socket, 'close');
      socket.resume();
      await closed;
      return bytes;
    },
    destroy: () => socket.destroy(),
  };
}
