/**
 * The wire, and nothing else: JSON-RPC over MCP Streamable HTTP in either protocol era, with
 * raw `fetch` so that statuses, content types and every SSE frame stay visible to the checks.
 *
 * - 2025-11-25: `initialize` opens a session (`Mcp-Session-Id`); the client's capabilities are
 *   declared there, once.
 * - 2026-07-28: no session; every request carries the `_meta` envelope (protocol version,
 *   client capabilities, client info) and the `MCP-Protocol-Version` and `Mcp-Method` headers.
 */
import { createParser } from 'eventsource-parser';

export const ERAS = ['2025-11-25', '2026-07-28'] as const;
export type Era = (typeof ERAS)[number];

export const META = {
  protocolVersion: 'io.modelcontextprotocol/protocolVersion',
  clientCapabilities: 'io.modelcontextprotocol/clientCapabilities',
  clientInfo: 'io.modelcontextprotocol/clientInfo',
  subscriptionId: 'io.modelcontextprotocol/subscriptionId',
} as const;

export type Json = Record<string, unknown>;

export interface RpcMessage {
  jsonrpc?: string;
  id?: string | number | null;
  method?: string;
  params?: Json;
  result?: Json;
  error?: { code: number; message: string; data?: unknown };
}

/** A request's answer: the HTTP status, and the JSON-RPC response with any notifications sent before it. */
export interface Reply {
  status: number;
  contentType: string;
  message: RpcMessage | undefined;
  /** Notifications that came on the response stream before the response. */
  notifications: RpcMessage[];
  ms: number;
}

export interface WireOptions {
  url: string;
  token: string | undefined;
  era: Era;
  /** What the client declares; the suite opts in to Events by default. */
  capabilities: Json;
}

const CLIENT_INFO = { name: 'events-conformance', version: '1.0.0' };

/** Things that arrive over time; a reader waits on a condition, bounded by a deadline. */
export class Arrivals<T> {
  readonly items: T[] = [];
  #ended = false;
  readonly #wake = new Set<() => void>();

  get ended(): boolean {
    return this.#ended;
  }

  push(item: T): void {
    this.items.push(item);
    for (const wake of [...this.#wake]) wake();
  }

  end(): void {
    this.#ended = true;
    for (const wake of [...this.#wake]) wake();
  }

  /** The first item from `from` on that satisfies `match`, or undefined at the deadline or the end. */
  waitFor(match: (item: T) => boolean, ms: number, from = 0): Promise<T | undefined> {
    return new Promise((resolve) => {
      const check = () => {
        const found = this.items.slice(from).find(match);
        if (found !== undefined || this.#ended) finish(found);
      };
      const timer = setTimeout(() => finish(undefined), ms);
      const finish = (value: T | undefined) => {
        clearTimeout(timer);
        this.#wake.delete(check);
        resolve(value);
      };
      this.#wake.add(check);
      check();
    });
  }

  /** Resolves true when the source ends within `ms`. */
  waitForEnd(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const check = () => this.#ended && finish(true);
      const timer = setTimeout(() => finish(false), ms);
      const finish = (value: boolean) => {
        clearTimeout(timer);
        this.#wake.delete(check);
        resolve(value);
      };
      this.#wake.add(check);
      check();
    });
  }
}

/** An open response stream (`events/stream`): its head, and its JSON-RPC messages as they arrive. */
export interface OpenStream {
  requestId: number;
  status: number;
  contentType: string;
  messages: Arrivals<RpcMessage>;
  /** Frames whose `data:` was not JSON (a priming frame is empty). */
  otherFrames: string[];
  /** SSE `id:` fields seen, in order (a 2025-11-25 stream can be resumed from the last). */
  sseIds: string[];
  close(): void;
}

let nextId = 1;

export class Connection {
  #sessionId: string | undefined;
  #serverCapabilities: Json | undefined;

  private constructor(readonly options: WireOptions) {}

  /** Opens a connection: in 2025-11-25, an initialized session; in 2026-07-28, nothing to open. */
  static async open(options: WireOptions): Promise<Connection> {
    const connection = new Connection(options);
    if (options.era === '2025-11-25') await connection.#initialize();
    return connection;
  }

  /** The server's capabilities: from `initialize` (2025-11-25) or `server/discover` (2026-07-28). */
  async serverCapabilities(): Promise<Json | undefined> {
    if (this.#serverCapabilities === undefined && this.options.era === '2026-07-28') {
      const reply = await this.request('server/discover', {});
      this.#serverCapabilities = reply.message?.result?.capabilities as Json | undefined;
    }
    return this.#serverCapabilities;
  }

  async #initialize(): Promise<void> {
    const reply = await this.request('initialize', { protocolVersion: this.options.era, capabilities: this.options.capabilities, clientInfo: CLIENT_INFO });
    const result = reply.message?.result;
    if (!result) throw new Error(`initialize failed: HTTP ${reply.status} ${JSON.stringify(reply.message?.error ?? reply.message)}`);
    this.#serverCapabilities = result.capabilities as Json | undefined;
    await this.#post({ jsonrpc: '2.0', method: 'notifications/initialized' }, 'notifications/initialized', undefined).then((res) => res.body?.cancel());
  }

  /** Ends a 2025-11-25 session (DELETE); nothing to do in 2026-07-28. */
  async close(): Promise<void> {
    if (this.#sessionId === undefined) return;
    await fetch(this.options.url, { method: 'DELETE', headers: this.#headers('') }).then((res) => res.body?.cancel(), () => undefined);
  }

  #headers(method: string): Record<string, string> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    if (this.#sessionId) headers['mcp-session-id'] = this.#sessionId;
    if (this.options.era === '2026-07-28') {
      headers['mcp-protocol-version'] = this.options.era;
      if (method) headers['mcp-method'] = method;
    } else if (this.#sessionId) {
      headers['mcp-protocol-version'] = this.options.era;
    }
    return headers;
  }

  /** The request body: in 2026-07-28 with the `_meta` envelope (capabilities overridable per request). */
  #body(id: number, method: string, params: Json, capabilities: Json | undefined): RpcMessage {
    if (this.options.era === '2025-11-25') return { jsonrpc: '2.0', id, method, params };
    const meta = {
      [META.protocolVersion]: this.options.era,
      [META.clientCapabilities]: capabilities ?? this.options.capabilities,
      [META.clientInfo]: CLIENT_INFO,
      ...((params._meta as Json | undefined) ?? {}),
    };
    return { jsonrpc: '2.0', id, method, params: { ...params, _meta: meta } };
  }

  async #post(body: RpcMessage, method: string, signal: AbortSignal | undefined): Promise<Response> {
    const res = await fetch(this.options.url, { method: 'POST', headers: this.#headers(method), body: JSON.stringify(body), signal: signal ?? null });
    const session = res.headers.get('mcp-session-id');
    if (session && this.options.era === '2025-11-25' && this.#sessionId === undefined) this.#sessionId = session;
    return res;
  }

  /**
   * One request, answered in a JSON body or on an SSE stream (read until the response with
   * this id). `capabilities` replaces what a 2026-07-28 request declares.
   */
  async request(method: string, params: Json, options: { capabilities?: Json; timeoutMs?: number } = {}): Promise<Reply> {
    const id = nextId++;
    const started = Date.now();
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), options.timeoutMs ?? 90_000);
    try {
      const res = await this.#post(this.#body(id, method, params, options.capabilities), method, abort.signal);
      const contentType = res.headers.get('content-type') ?? '';
      if (!contentType.includes('text/event-stream')) {
        const text = await res.text();
        let message: RpcMessage | undefined;
        try {
          message = text === '' ? undefined : (JSON.parse(text) as RpcMessage);
        } catch {
          message = undefined;
        }
        return { status: res.status, contentType, message, notifications: [], ms: Date.now() - started };
      }
      const messages = new Arrivals<RpcMessage>();
      void pump(res, messages, [], []);
      const answer = await messages.waitFor((m) => m.id === id && m.method === undefined, options.timeoutMs ?? 90_000);
      abort.abort();
      const notifications = messages.items.filter((m) => m.method !== undefined && m.id === undefined);
      return { status: res.status, contentType, message: answer, notifications, ms: Date.now() - started };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Opens a request whose answer is a long-lived stream (`events/stream`); `close()` aborts it. */
  async openStream(method: string, params: Json, options: { capabilities?: Json } = {}): Promise<OpenStream> {
    const requestId = nextId++;
    const abort = new AbortController();
    const res = await this.#post(this.#body(requestId, method, params, options.capabilities), method, abort.signal);
    const contentType = res.headers.get('content-type') ?? '';
    const messages = new Arrivals<RpcMessage>();
    const otherFrames: string[] = [];
    const sseIds: string[] = [];
    if (contentType.includes('text/event-stream')) {
      void pump(res, messages, otherFrames, sseIds);
    } else {
      const text = await res.text().catch(() => '');
      try {
        messages.push(JSON.parse(text) as RpcMessage);
      } catch {
        otherFrames.push(text);
      }
      messages.end();
    }
    return { requestId, status: res.status, contentType, messages, otherFrames, sseIds, close: () => abort.abort() };
  }
}

/** Reads an SSE body into `messages` (JSON `data:` frames) until it ends or is aborted. */
async function pump(res: Response, messages: Arrivals<RpcMessage>, otherFrames: string[], sseIds: string[]): Promise<void> {
  const parser = createParser({
    onEvent: (event) => {
      if (event.id !== undefined) sseIds.push(event.id);
      try {
        messages.push(JSON.parse(event.data) as RpcMessage);
      } catch {
        otherFrames.push(event.data);
      }
    },
  });
  const decoder = new TextDecoder();
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(chunk, { stream: true }));
  } catch {
    // aborted by the client, or the connection broke: either way the stream has ended
  } finally {
    messages.end();
  }
}
