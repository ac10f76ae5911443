import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import { isInitializeRequest, type McpServer, ProtocolError, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/server';
import type { PushStream } from '../../delivery/push-stream.js';
import { isUlid, LOG_START } from '../../events/ulid.js';
import { principalOf } from '../../http/access.js';
import type { Budget } from '../../http/budget.js';
import type { Logger } from '../../observe/logger.js';
import { declaresEvents } from '../client-capabilities.js';
import { ListenerIndex } from '../listener-index.js';
import type { RelayContext } from '../relay-context.js';
import { createRelayServer } from '../server-factory.js';
import { invalidSpecParams } from '../spec-params.js';
import type { StreamRegistry } from '../stream-registry.js';
import { openPushStream, parseStreamParams, type PushSettings, sendError, type StreamParams } from '../stream-requests.js';
import { limitReached, missingEventsCapability, WireCode } from '../wire-errors.js';
import { SessionEventStore } from './session-event-store.js';

/** A push stream of a session, kept after its connection drops so `Last-Event-ID` can resume it. */
interface ResumableStream {
  params: StreamParams;
  requestId: string | number;
  live: PushStream | undefined;
  expiry: NodeJS.Timeout | undefined;
}

interface LegacySession {
  /** Set once the SDK transport has accepted `initialize`. */
  id: string | undefined;
  principal: string;
  transport: NodeStreamableHTTPServerTransport;
  server: McpServer;
  /** As the client sent them: the SDK drops the (non-spec) top-level `events` key. */
  initCapabilities: Record<string, unknown> | undefined;
  subscriptions: Set<string>;
  streams: Map<string, ResumableStream>;
  nextTag: number;
  /** Returns the session's slot in the sessions budget. */
  release: () => void;
  /** Requests and streams of the session whose response is still open. */
  open: number;
  /** Closes the session once it has had nothing open for `RELAY_SESSION_IDLE`. */
  idle: NodeJS.Timeout | undefined;
}

export interface LegacySettings extends PushSettings {
  resumeWindowMs: number;
  /** 2025-11-25 sessions, per principal and in total. */
  sessions: Budget;
  sessionIdleMs: number;
  logger: Logger;
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
 * `initialize`, bound to the principal that opened it, within the sessions budget, and
 * closed after `sessionIdleMs` without an open request or stream. `events/stream` requests
 * and their `Last-Event-ID` resumptions are served by {@link PushStream}s from the log;
 * everything else goes to the session's SDK transport. Subscriptions are indexed by URI, so
 * a resource update looks up its subscribers instead of asking every session.
 */
export class LegacySessions {
  readonly #sessions = new Map<string, LegacySession>();
  readonly #subscribers = new ListenerIndex<LegacySession>();

  constructor(
    private readonly context: RelayContext,
    private readonly registry: StreamRegistry,
    private readonly settings: LegacySettings,
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

  /** Sends `notifications/resources/updated` to the sessions subscribed to `uri`; returns how many. */
  resourceUpdated(uri: string): number {
    const sessions = this.#subscribers.listenersOf(uri);
    for (const session of sessions) {
      session.server.server.sendResourceUpdated({ uri }).catch((error: unknown) => this.settings.logger.debug({ err: error }, 'resource update not delivered'));
    }
    return sessions.size;
  }

  /** Whether a session is subscribed to `uri`. */
  listens(uri: string): boolean {
    return this.#subscribers.has(uri);
  }

  /** The URIs some session is subscribed to. */
  subscribedUris(): IterableIterator<string> {
    return this.#subscribers.uris();
  }

  async handle(req: IncomingMessage & { auth?: Parameters<typeof principalOf>[0] }, res: ServerResponse, body: unknown): Promise<void> {
    const sessionId = req.headers['mcp-session-id'];
    const principal = principalOf(req.auth);
    if (typeof sessionId === 'string') {
      const session = this.#sessions.get(sessionId);
      if (!session) return jsonRpcError(res, 404, WireCode.sessionNotFound, 'Session not found');
      if (session.principal !== principal) return jsonRpcError(res, 403, WireCode.sessionNotFound, 'the session belongs to another principal');
      this.#busy(session, res);
      // 2025-11-25 transports, "Protocol Version Header": an unsupported version is 400. The SDK
      // transport checks the requests it serves; push streams and their resumes are served here.
      const version = req.headers['mcp-protocol-version'];
      if (typeof version === 'string' && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) {
        return jsonRpcError(res, 400, WireCode.badRequest, `Bad Request: Unsupported protocol version: ${version} (supported versions: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')})`);
      }
      const lastEventId = req.headers['last-event-id'];
      const resume = req.method === 'GET' && typeof lastEventId === 'string' ? PUSH_EVENT_ID.exec(lastEventId) : null;
      if (resume) return this.#resume(session, sessionId, resume[1]!, resume[2]!, res);
      if (req.method === 'POST' && isRequest(body, 'events/stream')) return this.#stream(session, sessionId, body, res);
      if (req.method === 'POST' && isCancellation(body)) this.#cancel(session, body.params.requestId);
      const invalid = invalidSpecParams(body, 'legacy');
      if (invalid) return sendError(res, 200, invalid.id, invalid.error);
      return session.transport.handleRequest(req, res, body);
    }
    if (req.method === 'POST' && isInitializeRequest(body)) return this.#open(req, res, body, principal);
    if (req.method !== 'POST') return jsonRpcError(res, 405, WireCode.badRequest, 'Method not allowed without a session');
    return jsonRpcError(res, 400, WireCode.badRequest, 'Bad Request: Mcp-Session-Id header is required');
  }

  /**
   * `initialize`: a new session, if the principal and the relay are within the sessions
   * budget; over it, the JSON-RPC error -32013 `{ limit, max }`, which SDK clients raise from
   * `connect()` with its code and data.
   */
  async #open(req: IncomingMessage, res: ServerResponse, body: { params: { capabilities?: unknown } }, principal: string): Promise<void> {
    const slot = this.settings.sessions.take(principal);
    if (!slot.ok) return sendError(res, 200, (body as { id?: string | number }).id ?? null, limitReached(slot.refusal));
    const capabilities = body.params.capabilities;
    const session = {
      id: undefined,
      principal,
      initCapabilities: typeof capabilities === 'object' && capabilities !== null ? (capabilities as Record<string, unknown>) : undefined,
      subscriptions: new Set<string>(),
      streams: new Map<string, ResumableStream>(),
      nextTag: 1,
      release: slot.release,
      open: 0,
      idle: undefined,
    } as LegacySession;
    session.transport = new NodeStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      eventStore: new SessionEventStore(),
      retryInterval: RETRY_MS,
      onsessioninitialized: (id) => {
        session.id = id;
        this.#sessions.set(id, session);
      },
      onsessionclosed: (id) => this.#forget(id),
    });
    session.transport.onclose = () => {
      if (session.transport.sessionId) this.#forget(session.transport.sessionId);
    };
    const subscriptions = {
      get size() {
        return session.subscriptions.size;
      },
      has: (uri: string) => session.subscriptions.has(uri),
      add: (uri: string) => {
        if (!this.#live(session)) return;
        session.subscriptions.add(uri);
        this.#subscribers.add(uri, session);
      },
      delete: (uri: string) => {
        session.subscriptions.delete(uri);
        this.#subscribers.delete(uri, session);
      },
    };
    session.server = createRelayServer({ era: 'legacy', principal, clientCapabilities: () => session.initCapabilities, subscriptions }, this.context);
    await session.server.connect(session.transport);
    this.#busy(session, res);
    await session.transport.handleRequest(req, res, body);
    if (session.id === undefined) {
      // The SDK refused the request before it became a session.
      slot.release();
      await session.transport.close();
    }
  }

  #live(session: LegacySession): boolean {
    return session.id !== undefined && this.#sessions.get(session.id) === session;
  }

  /** Counts `res` as open until it closes; the idle clock starts when nothing of the session is open. */
  #busy(session: LegacySession, res: ServerResponse): void {
    session.open++;
    clearTimeout(session.idle);
    res.once('close', () => {
      if (--session.open > 0 || !this.#live(session)) return;
      session.idle = setTimeout(() => void this.#expire(session), this.settings.sessionIdleMs).unref();
    });
  }

  /** Closes a session idle for `sessionIdleMs`: its id is then unknown (404 -32001), its slot free. */
  async #expire(session: LegacySession): Promise<void> {
    if (session.open > 0 || !this.#live(session)) return;
    this.#forget(session.id!);
    await session.transport.close();
  }

  async #stream(session: LegacySession, sessionId: string, body: JsonRpcRequest, res: ServerResponse): Promise<void> {
    if (!declaresEvents(session.initCapabilities)) return sendError(res, 200, body.id, missingEventsCapability('legacy'));
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
    if (!record) return jsonRpcError(res, 404, WireCode.sessionNotFound, `no resumable stream ${tag} in this session`);
    if (after !== LOG_START && !isUlid(after)) return jsonRpcError(res, 400, WireCode.badRequest, 'Invalid Last-Event-ID');
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
    clearTimeout(session.idle);
    session.release();
    for (const uri of session.subscriptions) this.#subscribers.delete(uri, session);
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
