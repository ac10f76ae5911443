/**
 * An Events server written from the Events draft (design-sketch-proposal.md) alone, to show
 * that the companion client works with any Events server, not just this relay: plain
 * node:http with hand-written JSON-RPC, in memory, one event type (`activity`, narrowed by
 * the `kinds` argument), cursors that are random tokens (see independent-events-log.ts).
 * It serves `events/list`, `events/poll` (long poll), `events/stream` (push over SSE) and,
 * to the holder of its token, `events/subscribe` / `events/unsubscribe` (webhook delivery,
 * independent-events-webhooks.ts) to 2026-07-28 requests (stateless, `server/discover`) and
 * to 2025-11-25 sessions (`initialize`, `Mcp-Session-Id`). `POST /trigger` publishes one
 * event that matches the posted `arguments`, for a conformance run against it.
 *
 * Standalone: `npx tsx test/support/independent-events-server.ts --port 8790` prints its URL
 * and the trigger's (options: `--token`, `--heartbeat-ms`, `--max-streams`, `--max-long-polls`,
 * `--stream-lifetime-ms`, `--next-poll-ms`, `--http-callbacks`).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { type ActivityArguments, ActivityLog, type Occurrence } from './independent-events-log.js';
import { CODES, count, isRecord, RpcError } from './independent-events-rpc.js';
import { Webhooks } from './independent-events-webhooks.js';

export { CODES } from './independent-events-rpc.js';

export const EVENT_NAME = 'activity';
const MODERN = '2026-07-28';
const LEGACY = '2025-11-25';
const VERSION_KEY = 'io.modelcontextprotocol/protocolVersion';
const CAPABILITIES_KEY = 'io.modelcontextprotocol/clientCapabilities';
const SUBSCRIPTION_KEY = 'io.modelcontextprotocol/subscriptionId';
const serverInfo = { name: 'independent-events-server', version: '1.0.0' };
const capabilities = { events: { listChanged: false } };
const MAX_EVENTS = 1_000;
const MAX_WAIT_MS = 60_000;
/** The one principal: whoever holds the token. */
const PRINCIPAL = 'token-holder';

/** The `error` of `notifications/events/terminated`. */
type Termination = { code: number; message: string; data?: unknown };

export interface IndependentServerOptions {
  port?: number;
  /** Bearer token every request must carry; absent: open. */
  token?: string;
  /** Heartbeat interval of streams. Default 10 000. */
  heartbeatMs?: number;
  /** What a poll that did not wait and returned everything asks the client to wait. Default 1 000. */
  nextPollMs?: number;
  /** Events kept; older ones are forgotten (a cursor before them is `truncated`). Default 10 000. */
  retention?: number;
  /** Polls held at once, and streams open at once, before -32013. Default 100 each. */
  maxLongPolls?: number;
  maxStreams?: number;
  /** `retryAfterMs` in a -32013 refusal. Default 1 000. */
  retryAfterMs?: number;
  /** Streams end with their result after this long; the client opens the next one. Default: never. */
  streamLifetimeMs?: number;
  /** Webhook callbacks may be plain http to loopback (tests); otherwise https only. Default false. */
  httpCallbacks?: boolean;
}

export interface IndependentEventsServer {
  /** The MCP endpoint. */
  url: string;
  /** Publishes an `activity` event; its `kind` is what `kinds` filters on. An `eventId` given twice is a redelivery. */
  publish(data: { kind: string } & Record<string, unknown>, eventId?: string): Occurrence;
  /** The cursor this server gives for the position right after the event with `eventId`. */
  cursorAfter(eventId: string): string | undefined;
  /** Ends every open stream with `notifications/events/terminated` carrying `error`. */
  terminateStreams(error: Termination): void;
  close(): Promise<void>;
}

interface Call {
  era: 'modern' | 'legacy';
  id: string | number;
  params: Record<string, unknown>;
  clientCapabilities: Record<string, unknown>;
  req: IncomingMessage;
  res: ServerResponse;
}

function declaresEvents(caps: Record<string, unknown>): boolean {
  const experimental = caps.experimental;
  return caps.events !== undefined || (isRecord(experimental) && experimental.events !== undefined);
}

/** The draft's subscription parameters, checked by hand: unknown name -32011, anything malformed -32602. */
function subscriptionOf(params: Record<string, unknown>): { args: ActivityArguments; cursor: string | null; maxAgeMs: number | undefined } {
  if (typeof params.name !== 'string') throw new RpcError(CODES.invalidParams, 'name must be a string');
  if (params.name !== EVENT_NAME) throw new RpcError(CODES.notFound, `unknown event ${params.name}`, { kind: 'event' });
  const args = params.arguments ?? {};
  if (!isRecord(args) || Object.keys(args).some((key) => key !== 'kinds')) throw new RpcError(CODES.invalidParams, 'arguments: only kinds is accepted');
  const kinds = args.kinds;
  if (kinds !== undefined && !(Array.isArray(kinds) && kinds.every((kind) => typeof kind === 'string'))) throw new RpcError(CODES.invalidParams, 'kinds must be strings');
  const cursor = params.cursor ?? null;
  if (cursor !== null && typeof cursor !== 'string') throw new RpcError(CODES.invalidParams, 'cursor must be a string or null');
  return { args: kinds === undefined ? {} : { kinds: kinds as string[] }, cursor, maxAgeMs: count(params.maxAgeMs, 'maxAgeMs', 1) };
}

/** The one event type; webhook delivery only where there is a principal to key subscriptions by (a token). */
function descriptor(webhook: boolean) {
  return {
    name: EVENT_NAME,
    description: 'Activity of the test tenant; narrow it by kind.',
    delivery: webhook ? ['poll', 'push', 'webhook'] : ['poll', 'push'],
    inputSchema: { type: 'object', properties: { kinds: { type: 'array', items: { type: 'string' } } }, additionalProperties: false },
    payloadSchema: { type: 'object', required: ['kind'], properties: { kind: { type: 'string' } } },
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

/** Resolves at the next publish, at `ms`, or when the client goes away; `true` only for a publish. */
function nextPublish(log: ActivityLog, ms: number, res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (published: boolean) => {
      clearTimeout(timer);
      stop();
      res.off('close', gone);
      resolve(published);
    };
    const gone = () => done(false);
    const timer = setTimeout(() => done(false), ms);
    const stop = log.onPublish(() => done(true));
    res.on('close', gone);
  });
}

export async function startIndependentEventsServer(options: IndependentServerOptions = {}): Promise<IndependentEventsServer> {
  const heartbeatMs = options.heartbeatMs ?? 10_000;
  const nextPollMs = options.nextPollMs ?? 1_000;
  const retryAfterMs = options.retryAfterMs ?? 1_000;
  const maxLongPolls = options.maxLongPolls ?? 100;
  const maxStreams = options.maxStreams ?? 100;
  const log = new ActivityLog(options.retention ?? 10_000);
  const sessions = new Map<string, Record<string, unknown>>();
  /** Each open stream's `end`. */
  const streams = new Set<(why: Termination) => void>();
  let heldPolls = 0;
  const webhooks = new Webhooks(log, options.httpCallbacks ?? false);

  const exhausted = (limit: string, max: number) => new RpcError(CODES.resourceExhausted, `too many ${limit}`, { limit, max, retryAfterMs });
  const complete = (call: Call, result: Record<string, unknown>) =>
    call.era === 'modern' ? { resultType: 'complete', ...result, _meta: { 'io.modelcontextprotocol/serverInfo': serverInfo, ...(result._meta as object) } } : result;

  async function poll(call: Call): Promise<Record<string, unknown>> {
    const { args, cursor, maxAgeMs } = subscriptionOf(call.params);
    const maxEvents = Math.min(count(call.params.maxEvents, 'maxEvents', 1) ?? 100, MAX_EVENTS);
    // `waitMs` is the name a pending change of the draft gives `timeoutMs`.
    const waitMs = Math.min(count(call.params.timeoutMs ?? call.params.waitMs, 'timeoutMs', 0) ?? 0, MAX_WAIT_MS);
    const after = (hasMore: boolean) => (hasMore || waitMs > 0 ? 0 : nextPollMs);
    if (cursor === null) return { events: [], cursor: log.headCursor(), hasMore: false, truncated: false, nextPollMs: after(false) };
    const first = log.read(cursor, args, maxEvents, maxAgeMs);
    let page = first;
    if (page.events.length === 0 && !page.truncated && waitMs > 0) {
      if (heldPolls >= maxLongPolls) throw exhausted('long_polls', maxLongPolls);
      heldPolls++;
      try {
        const deadline = Date.now() + waitMs;
        while (page.events.length === 0 && (await nextPublish(log, deadline - Date.now(), call.res))) page = log.read(page.cursor, args, maxEvents);
      } finally {
        heldPolls--;
      }
    }
    return { events: page.events, cursor: page.cursor, hasMore: page.hasMore, truncated: first.truncated, nextPollMs: after(page.hasMore) };
  }

  function stream(call: Call): void {
    const { args, cursor, maxAgeMs } = subscriptionOf(call.params);
    if (streams.size >= maxStreams) throw exhausted('streams', maxStreams);
    const { res } = call;
    const meta = { [SUBSCRIPTION_KEY]: call.id };
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
    const send = (message: Record<string, unknown>) => res.write(`event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', ...message })}\n\n`);
    const notify = (kind: string, params: Record<string, unknown>) => send({ method: `notifications/events/${kind}`, params: { ...params, _meta: meta } });

    let position = cursor ?? log.headCursor();
    /** Sends every event after `position`; a gap is `active` again with `truncated` and the fresh cursor. */
    const pump = (first: boolean) => {
      const batch = log.stream(position, args, first ? maxAgeMs : undefined);
      if (first || batch.truncated) notify('active', { cursor: batch.truncated ? batch.resumedAt : position, truncated: batch.truncated });
      for (const event of batch.events) notify('event', { ...event });
      position = batch.cursor;
    };
    pump(true);
    const unsubscribe = log.onPublish(() => pump(false));
    const heartbeat = setInterval(() => notify('heartbeat', { cursor: position }), heartbeatMs);
    const lifetime = options.streamLifetimeMs;
    const lifetimeTimer =
      lifetime === undefined
        ? undefined
        : setTimeout(() => end({ code: CODES.resourceExhausted, message: `the stream reached its lifetime of ${lifetime} ms`, data: { limit: 'stream_lifetime_ms', max: lifetime } }), lifetime);
    /** Ends the stream: `terminated` says why, then its result. */
    const end = (why: Termination) => {
      notify('terminated', { error: why });
      cleanup();
      send({ id: call.id, result: complete(call, { _meta: meta }) });
      res.end();
    };
    const cleanup = () => {
      unsubscribe();
      clearInterval(heartbeat);
      clearTimeout(lifetimeTimer);
      streams.delete(end);
    };
    streams.add(end);
    // The client closing the response cancels the stream.
    res.on('close', cleanup);
  }

  /** Webhook subscriptions are keyed by who asked: an open server has no one to key them by. */
  function webhook(method: string, params: Record<string, unknown>): Promise<Record<string, unknown>> | Record<string, unknown> {
    if (options.token === undefined) throw new RpcError(CODES.forbidden, 'webhook delivery needs an authenticated principal');
    const request = { name: EVENT_NAME, ...subscriptionOf(params) };
    return method === 'events/subscribe' ? webhooks.subscribe(PRINCIPAL, request, params) : webhooks.unsubscribe(PRINCIPAL, request, params);
  }

  async function dispatch(method: string, call: Call): Promise<Record<string, unknown> | undefined> {
    if (method === 'server/discover' && call.era === 'modern') return { supportedVersions: [MODERN], capabilities, ttlMs: 0, cacheScope: 'private' };
    if (method === 'ping' && call.era === 'legacy') return {};
    if (!['events/list', 'events/poll', 'events/stream', 'events/subscribe', 'events/unsubscribe'].includes(method)) {
      throw new RpcError(CODES.methodNotFound, `method not found: ${method}`, undefined, call.era === 'modern' ? 404 : 200);
    }
    if (!declaresEvents(call.clientCapabilities)) {
      throw call.era === 'modern'
        ? new RpcError(CODES.missingCapability, 'the events capability is required', { requiredCapabilities: { events: {} } }, 400)
        : new RpcError(CODES.unsupported, 'declare the events capability', { feature: 'capability', value: 'events' });
    }
    if (method === 'events/list') return { events: [descriptor(options.token !== undefined)] };
    if (method === 'events/poll') return poll(call);
    if (method === 'events/subscribe' || method === 'events/unsubscribe') return webhook(method, call.params);
    stream(call);
    return undefined;
  }

  /** The 2026-07-28 rules a request must pass before it is served: headers, version, `_meta`. */
  function modernCheck(req: IncomingMessage, method: string, params: Record<string, unknown>): Record<string, unknown> {
    const meta = isRecord(params._meta) ? params._meta : {};
    const version = meta[VERSION_KEY];
    const header = req.headers['mcp-protocol-version'];
    if (typeof version !== 'string') throw new RpcError(CODES.invalidParams, `_meta needs ${VERSION_KEY}`, undefined, 400);
    if (header !== version) throw new RpcError(CODES.headerMismatch, 'MCP-Protocol-Version header does not match _meta', undefined, 400);
    if (version !== MODERN) throw new RpcError(CODES.unsupportedVersion, 'Unsupported protocol version', { supported: [MODERN], requested: version }, 400);
    if (req.headers['mcp-method'] !== method) throw new RpcError(CODES.headerMismatch, 'Mcp-Method header does not match the body', undefined, 400);
    const caps = meta[CAPABILITIES_KEY];
    if (!isRecord(caps)) throw new RpcError(CODES.invalidParams, `_meta needs ${CAPABILITIES_KEY}`, undefined, 400);
    return caps;
  }

  async function serveMcp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const sessionId = req.headers['mcp-session-id'];
    const session = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
    if (typeof sessionId === 'string' && !session) return sendJson(res, 404, { jsonrpc: '2.0', id: null, error: { code: CODES.invalidParams, message: 'unknown session' } });
    if (req.method === 'DELETE' && session) {
      sessions.delete(sessionId as string);
      return void res.writeHead(200).end();
    }
    if (req.method !== 'POST') return void res.writeHead(405, { allow: 'POST' }).end();
    let message: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(await readBody(req));
      if (!isRecord(parsed)) throw new Error('not an object');
      message = parsed;
    } catch {
      return sendJson(res, 400, { jsonrpc: '2.0', id: null, error: { code: CODES.parseError, message: 'Parse error' } });
    }
    const method = message.method;
    const id = message.id as string | number | undefined;
    const params = isRecord(message.params) ? message.params : {};
    if (typeof method !== 'string') return void res.writeHead(202).end();
    let call: Call | undefined;
    try {
      if (method === 'initialize') {
        const created = randomUUID();
        sessions.set(created, isRecord(params.capabilities) ? params.capabilities : {});
        const result = { protocolVersion: LEGACY, capabilities, serverInfo };
        return sendJson(res, 200, { jsonrpc: '2.0', id, result }, { 'mcp-session-id': created });
      }
      const era = session ? 'legacy' : 'modern';
      const clientCapabilities = session ?? modernCheck(req, method, params);
      if (id === undefined) return void res.writeHead(202).end();
      call = { era, id, params, clientCapabilities, req, res };
      const result = await dispatch(method, call);
      if (result !== undefined && !res.writableEnded) sendJson(res, 200, { jsonrpc: '2.0', id, result: complete(call, result) });
    } catch (error) {
      const rpc = error instanceof RpcError ? error : new RpcError(CODES.internal, 'Internal error', { reason: String(error) });
      if (res.headersSent) return void res.end();
      sendJson(res, rpc.status, { jsonrpc: '2.0', id: id ?? null, error: { code: rpc.code, message: rpc.message, ...(rpc.data === undefined ? {} : { data: rpc.data }) } });
    }
  }

  /** `POST /trigger` `{ arguments }`: one event that the subscription with those arguments receives. */
  async function serveTrigger(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body: unknown = JSON.parse((await readBody(req)) || '{}');
    const args = isRecord(body) && isRecord(body.arguments) ? body.arguments : {};
    const kind = Array.isArray(args.kinds) && typeof args.kinds[0] === 'string' ? args.kinds[0] : 'note';
    sendJson(res, 200, log.publish(EVENT_NAME, { kind }));
  }

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (options.token !== undefined && req.headers.authorization !== `Bearer ${options.token}`) return void res.writeHead(401).end();
    const served = path === '/mcp' ? serveMcp(req, res) : path === '/trigger' && req.method === 'POST' ? serveTrigger(req, res) : Promise.resolve(void res.writeHead(404).end());
    served.catch(() => res.destroy());
  });
  server.listen(options.port ?? 0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/mcp`,
    publish: (data, eventId) => log.publish(EVENT_NAME, data, eventId),
    cursorAfter: (eventId) => log.cursorAfter(eventId),
    terminateStreams: (error) => [...streams].forEach((end) => end(error)),
    async close() {
      webhooks.close();
      // A retry cures a shutdown: the client resumes from its cursor once the server is back.
      for (const end of [...streams]) end({ code: CODES.internal, message: 'the server is shutting down', data: { reason: 'shutdown' } });
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const numbers = ['heartbeat-ms', 'max-streams', 'max-long-polls', 'stream-lifetime-ms', 'next-poll-ms'] as const;
  const { values } = parseArgs({
    options: { port: { type: 'string', default: '8790' }, token: { type: 'string' }, 'http-callbacks': { type: 'boolean' }, ...Object.fromEntries(numbers.map((name) => [name, { type: 'string' as const }])) },
  });
  const number = (name: (typeof numbers)[number]) => {
    const text = (values as Record<string, unknown>)[name] as string | undefined;
    return text === undefined ? undefined : Number(text);
  };
  const server = await startIndependentEventsServer({
    port: Number(values.port),
    token: values.token,
    heartbeatMs: number('heartbeat-ms'),
    maxStreams: number('max-streams'),
    maxLongPolls: number('max-long-polls'),
    streamLifetimeMs: number('stream-lifetime-ms'),
    nextPollMs: number('next-poll-ms'),
    httpCallbacks: values['http-callbacks'],
  });
  console.log(server.url);
  console.log(`trigger: ${server.url.replace(/\/mcp$/, '/trigger')}`);
  process.once('SIGINT', () => void server.close().then(() => process.exit(0)));
  process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
}
