import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import { isInitializeRequest, type McpServer, ProtocolError, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/server';
import { isUlid, LOG_START } from '../events/ulid.js';
import { principalOf } from './access.js';
import { declaresEvents } from './client-capabilities.js';
import type { PushStream } from './push-stream.js';
import type { RelayContext } from './relay-context.js';
import { createRelayServer } from './server-factory.js';
import { SessionEventStore } from './session-event-store.js';
import type { StreamRegistry } from './stream-registry.js';
import { openPushStream, parseStreamParams, type PushSettings, sendError, type StreamParams } from './stream-requests.js';
import { missingEventsCapability } from './wire-errors.js';

/** A push stream of a session, kept after its connection drops so `Last-Event-ID` can resume it. */
interface ResumableStream {
  params: StreamParams;
  requestId: string | number;
  live: PushStream | undefined;
  expiry: NodeJS.Timeout | undefined;
}

interface LegacySession {
  principal: string;
  transport: NodeStreamableHTTPServerTransport;
  server: McpServer;
  /** As the client sent them: the SDK drops the (non-spec) top-level `events` key. */
  initCapabilities: Record<string, unknown> | undefined;
  subscriptions: Set<string>;
  streams: Map<string, ResumableStream>;
  nextTag: number;
}

/** `s<n>.<ULID>`: a push-stream frame id (SDK-managed streams use `m<n>.<seq>`). */
const PUSH_EVENT_ID = /^(s\d+)\.([0-9A-Z]{26})$/;
const RETRY_MS = 1000;

type JsonRpcRequest = { jsonrpc: '2.0'; id: string | number; method: string; params?: unknown };

function isRequest(body: unknown, method: string): body is JsonRpcRequest {
  return typeof body === 'object' && body !== null && (body as { method?: unknown }).method === method && 'id' in body;
}

function isCancellation(body: unknown): body is { params: { requestId: string | number } } {
  const params = (body as { method?: unknown; params?: { requestId?: unknown } } | null)?.params;
  return (body as { method?: unknown } | null)?.method === 'notifications/cancelled' && (typeof params?.requestId === 'string' || typeof params?.requestId === 'number');
}

function jsonRpcError(res: ServerResponse, status: number, code: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code, message } }));
}

/**
 * MCP 2025-11-25 (and earlier) clients: one sessionful Streamable HTTP transport per
 * `initialize`, bound to the principal that opened it. `events/stream` requests and their
 * `Last-Event-ID` resumptions are served by {@link PushStream}s from the log; everything
 * else goes to the session's SDK transport.
 */
export class LegacySessions {
  readonly #sessions = new Map<string, LegacySession>();

  constructor(
    private readonly context: RelayContext,
    private readonly registry: StreamRegistry,
    private readonly settings: PushSettings & { resumeWindowMs: number },
  ) {}

  get size(): number {
    return this.#sessions.size;
  }

  /** Sessions subscribed to at least one resource. */
  get subscribedSessions(): number {
    let n = 0;
    for (const session of this.#sessions.values()) if (session.subscriptions.size > 0) n++;
    return n;
  }

  /** All legacy sessions subscribed to `uri`, for `notifications/resources/updated`. */
  *subscribersOf(uri: string): Iterable<McpServer> {
    for (const session of this.#sessions.values()) if (session.subscriptions.has(uri)) yield session.server;
  }

  async handle(req: IncomingMessage & { auth?: Parameters<typeof principalOf>[0] }, res: ServerResponse, body: unknown): Promise<void> {
    const sessionId = req.headers['mcp-session-id'];
    const principal = principalOf(req.auth);
    if (typeof sessionId === 'string') {
      const session = this.#sessions.get(sessionId);
      if (!session) return jsonRpcError(res, 404, -32001, 'Session not found');
      if (session.principal !== principal) return jsonRpcError(res, 403, -32001, 'the session belongs to another principal');
      // 2025-11-25 transports, "Protocol Version Header": an unsupported version is 400. The SDK
      // transport checks the requests it serves; push streams and their resumes are served here.
      const version = req.headers['mcp-protocol-version'];
      if (typeof version === 'string' && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) {
        return jsonRpcError(res, 400, -32000, `Bad Request: Unsupported protocol version: ${version} (supported versions: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')})`);
      }
      const lastEventId = req.headers['last-event-id'];
      const resume = req.method === 'GET' && typeof lastEventId === 'string' ? PUSH_EVENT_ID.exec(lastEventId) : null;
      if (resume) return this.#resume(session, sessionId, resume[1]!, resume[2]!, res);
      if (req.method === 'POST' && isRequest(body, 'events/stream')) return this.#stream(session, sessionId, body, res);
      if (req.method === 'POST' && isCancellation(body)) this.#cancel(session, body.params.requestId);
      return session.transport.handleRequest(req, res, body);
    }
    if (req.method === 'POST' && isInitializeRequest(body)) return this.#open(req, res, body, principal);
    if (req.method !== 'POST') return jsonRpcError(res, 405, -32000, 'Method not allowed without a session');
    return jsonRpcError(res, 400, -32000, 'Bad Request: Mcp-Session-Id header is required');
  }

  async #open(req: IncomingMessage, res: ServerResponse, body: { params: { capabilities?: unknown } }, principal: string): Promise<void> {
    const capabilities = body.params.capabilities;
    const session = {
      principal,
      initCapabilities: typeof capabilities === 'object' && capabilities !== null ? (capabilities as Record<string, unknown>) : undefined,
      subscriptions: new Set<string>(),
      streams: new Map<string, ResumableStream>(),
      nextTag: 1,
    } as LegacySession;
    session.transport = new NodeStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      eventStore: new SessionEventStore(),
      retryInterval: RETRY_MS,
      onsessioninitialized: (id) => {
        this.#sessions.set(id, session);
      },
      onsessionclosed: (id) => this.#forget(id),
    });
    session.transport.onclose = () => {
      if (session.transport.sessionId) this.#forget(session.transport.sessionId);
    };
    session.server = createRelayServer(
      { era: 'legacy', principal, clientCapabilities: () => session.initCapabilities, subscriptions: session.subscriptions },
      this.context,
    );
    await session.server.connect(session.transport);
    await session.transport.handleRequest(req, res, body);
  }

  async #stream(session: LegacySession, sessionId: string, body: JsonRpcRequest, res: ServerResponse): Promise<void> {
    if (!declaresEvents(session.initCapabilities)) return sendError(res, 200, body.id, missingEventsCapability());
    let params: StreamParams;
    try {
      params = parseStreamParams(body.params);
    } catch (error) {
      return sendError(res, 200, body.id, error as ProtocolError);
    }
    const tag = `s${session.nextTag++}`;
    const record: ResumableStream = { params, requestId: body.id, live: undefined, expiry: undefined };
    session.streams.set(tag, record);
    await this.#attach(session, sessionId, tag, record, params.cursor, true, res);
  }

  async #resume(session: LegacySession, sessionId: string, tag: string, after: string, res: ServerResponse): Promise<void> {
    const record = session.streams.get(tag);
    if (!record) return jsonRpcError(res, 404, -32001, `no resumable stream ${tag} in this session`);
    if (after !== LOG_START && !isUlid(after)) return jsonRpcError(res, 400, -32000, 'Invalid Last-Event-ID');
    record.live?.disconnect('replaced');
    await this.#attach(session, sessionId, tag, record, after, false, res);
  }

  /** Serves a stream record on `res`; when the connection drops, the record waits for a resume. */
  async #attach(session: LegacySession, sessionId: string, tag: string, record: ResumableStream, after: string | null, announce: boolean, res: ServerResponse) {
    clearTimeout(record.expiry);
    await openPushStream(
      res,
      {
        principal: session.principal,
        era: 'legacy',
        requestId: record.requestId,
        params: record.params,
        idPrefix: `${tag}.`,
        after,
        announce,
        retryMs: RETRY_MS,
        headers: { 'mcp-session-id': sessionId },
        onOpen: (stream) => {
          record.live = stream;
        },
        onEnd: (end) => {
          record.live = undefined;
          if (end.finished || end.error) session.streams.delete(tag);
          else record.expiry = setTimeout(() => session.streams.delete(tag), this.settings.resumeWindowMs).unref();
        },
      },
      this.context,
      this.registry,
      this.settings,
    );
  }

  /** `notifications/cancelled` for a push stream: it ends without a result, as cancellation asks. */
  #cancel(session: LegacySession, requestId: string | number): void {
    for (const [tag, record] of session.streams) {
      if (record.requestId !== requestId) continue;
      session.streams.delete(tag);
      clearTimeout(record.expiry);
      record.live?.disconnect('cancelled');
    }
  }

  #forget(sessionId: string, reason: 'session_closed' | 'shutdown' = 'session_closed'): void {
    const session = this.#sessions.get(sessionId);
    if (!session) return;
    this.#sessions.delete(sessionId);
    for (const record of session.streams.values()) {
      clearTimeout(record.expiry);
      record.live?.finish(reason);
    }
  }

  async close(): Promise<void> {
    for (const [id, session] of [...this.#sessions]) {
      this.#forget(id, 'shutdown');
      await session.transport.close();
    }
  }
}
