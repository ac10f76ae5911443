import type { ServerResponse } from 'node:http';
import { classifyInboundRequest } from '@modelcontextprotocol/server';
import type express from 'express';
import type { Budget } from '../http/budget.js';
import type { Logger } from '../observe/logger.js';
import { LegacySessions } from './legacy/sessions.js';
import { ModernRequests } from './modern/requests.js';
import type { RelayContext } from './relay-context.js';
import { StreamRegistry } from './stream-registry.js';
import type { PushSettings } from './stream-requests.js';
import { WireCode } from './wire-errors.js';

export interface McpEndpointOptions extends PushSettings {
  resumeWindowMs: number;
  /** Push streams, both eras. */
  streams: Budget;
  /** 2026-07-28 `subscriptions/listen` streams. */
  listens: Budget;
  /** 2025-11-25 sessions. */
  sessions: Budget;
  /** A 2025-11-25 session with no request or stream open this long is closed. */
  sessionIdleMs: number;
  logger: Logger;
}

export interface McpEndpoint {
  /** Handles `/mcp` (mount after authentication and origin checks). */
  handler: express.RequestHandler;
  /** Tells the listeners of `uri`, in both eras, that it changed; costs nothing when nobody listens. */
  resourceUpdated(uri: string): void;
  /** Whether a session or listen stream listens to `uri`. */
  listened(uri: string): boolean;
  /** Every URI someone listens to, once. */
  listenedUris(): Iterable<string>;
  /** `notifications/resources/updated` sent so far, one per listener and URI. */
  resourceUpdates(): { legacy: number; modern: number };
  readonly openStreams: number;
  /** Clients listening for resource updates: legacy sessions with a subscription, open 2026-07-28 `subscriptions/listen` streams. */
  listeners(): { legacy: number; modern: number };
  /** Ends every push stream with its final result, then closes sessions and the modern handler. */
  close(): Promise<void>;
}

function header(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/**
 * One endpoint, two eras, one server definition. The SDK's classifier routes each request:
 * 2025-era traffic (initialize, session requests, GET streams) to {@link LegacySessions};
 * everything else — requests with a 2026-07-28 `_meta` envelope, and what the SDK's handler
 * refuses — to {@link ModernRequests}. `events/stream` is served by the relay itself in both
 * eras, so that push frames carry log ids, replay from the log and stay within a buffer bound;
 * both eras' push streams share one registry and its budget.
 */
export function createMcpEndpoint(context: RelayContext, options: McpEndpointOptions): McpEndpoint {
  const registry = new StreamRegistry(options.streams, context.streams);
  const legacy = new LegacySessions(context, registry, options);
  const modern = new ModernRequests(context, registry, options);
  const sent = { legacy: 0, modern: 0 };

  const handler: express.RequestHandler = async (req, res) => {
    const body: unknown = req.method === 'POST' ? req.body : undefined;
    const route = classifyInboundRequest({
      httpMethod: req.method,
      protocolVersionHeader: header(req.headers['mcp-protocol-version']),
      mcpMethodHeader: header(req.headers['mcp-method']),
      mcpNameHeader: header(req.headers['mcp-name']),
      body,
    });
    try {
      if (route.kind === 'legacy') return await legacy.handle(req, res, body);
      return await modern.handle(req, res, route, body);
    } catch (error) {
      options.logger.error({ err: error }, 'mcp endpoint failed');
      internalError(res);
    }
  };

  return {
    handler,
    resourceUpdated(uri) {
      sent.legacy += legacy.resourceUpdated(uri);
      sent.modern += modern.resourceUpdated(uri);
    },
    listened: (uri) => legacy.listens(uri) || modern.listens(uri),
    *listenedUris() {
      yield* legacy.subscribedUris();
      for (const uri of modern.listenedUris()) if (!legacy.listens(uri)) yield uri;
    },
    resourceUpdates: () => ({ ...sent }),
    get openStreams() {
      return registry.size;
    },
    listeners: () => ({ legacy: legacy.subscribedSessions, modern: modern.listening }),
    async close() {
      registry.finishAll();
      await legacy.close();
      await modern.close();
    },
  };
}

function internalError(res: ServerResponse): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: WireCode.internal, message: 'Internal error' } }));
}
