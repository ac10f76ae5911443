import type { ServerResponse } from 'node:http';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { CLIENT_CAPABILITIES_META_KEY, classifyInboundRequest, createMcpHandler } from '@modelcontextprotocol/server';
import express from 'express';
import { principalOf } from '../http/access.js';
import type { Budget } from '../http/budget.js';
import type { Logger } from '../observe/logger.js';
import { ownsGroup } from './group-registry.js';
import { groupOfUri } from './resource-uris.js';
import { MAX_SUBSCRIPTIONS, tooManySubscriptions } from './resources.js';
import { LegacySessions } from './legacy/sessions.js';
import { ListenerIndex } from './listener-index.js';
import { serveModernStream } from './modern/streams.js';
import type { RelayContext } from './relay-context.js';
import { createRelayServer } from './server-factory.js';
import { invalidSpecParams } from './spec-params.js';
import { StreamRegistry } from './stream-registry.js';
import { type PushSettings, sendError } from './stream-requests.js';
import { limitReached } from './wire-errors.js';

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
 * requests with a 2026-07-28 `_meta` envelope to the SDK's stateless handler — except
 * `events/stream`, which the relay serves itself in both eras so that push frames carry
 * log ids, replay from the log and stay within a buffer bound.
 */
export function createMcpEndpoint(context: RelayContext, options: McpEndpointOptions): McpEndpoint {
  const registry = new StreamRegistry(options.streams, context.streams);
  const legacy = new LegacySessions(context, registry, options);
  const modern = createMcpHandler(
    (ctx) =>
      createRelayServer(
        {
          era: 'modern',
          principal: principalOf(ctx.authInfo),
          clientCapabilities: (c) => (c.mcpReq.envelope as Record<string, unknown> | undefined)?.[CLIENT_CAPABILITIES_META_KEY] as Record<string, unknown> | undefined,
        },
        context,
      ),
    {
      legacy: 'reject',
      // The listens budget answers first; the SDK's own cap (1024 by default, -32603) must not.
      maxSubscriptions: options.listens.limits.total,
      onerror: (error) => options.logger.warn({ err: error }, 'mcp request failed'),
    },
  );
  const modernNode = toNodeHandler(modern);
  /** Open `subscriptions/listen` responses by the URIs they listen to: the SDK's bus only hears of those URIs. */
  const listenStreams = new ListenerIndex<ServerResponse>();
  const watchListen = (res: ServerResponse, uris: readonly string[]) => {
    for (const uri of uris) listenStreams.add(uri, res);
    res.once('close', () => {
      for (const uri of uris) listenStreams.delete(uri, res);
    });
  };
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
      if (route.kind === 'modern' && route.messageKind === 'request' && route.message.method === 'events/stream') {
        return await serveModernStream(req, res, route.message, context, registry, options);
      }
      if (route.kind === 'modern' && route.messageKind === 'request' && route.message.method === 'subscriptions/listen') {
        const principal = principalOf(req.auth);
        if (listenedUris(route.message.params).length > MAX_SUBSCRIPTIONS) return sendError(res, 200, route.message.id, tooManySubscriptions());
        const slot = options.listens.take(principal);
        if (!slot.ok) return sendError(res, 200, route.message.id, limitReached(slot.refusal));
        watchListen(res, honourOwnGroupsOnly(route.message.params, principal));
        res.once('close', slot.release);
      }
      const invalid = invalidSpecParams(body, 'modern');
      if (invalid) return sendError(res, 200, invalid.id, invalid.error);
      return await modernNode(req, res, body);
    } catch (error) {
      options.logger.error({ err: error }, 'mcp endpoint failed');
      internalError(res);
    }
  };

  return {
    handler,
    resourceUpdated(uri) {
      sent.legacy += legacy.resourceUpdated(uri);
      // The SDK offers each published URI to every open listen stream: publish only what someone listens to.
      const streams = listenStreams.listenersOf(uri).size;
      if (streams === 0) return;
      modern.notify.resourceUpdated(uri);
      sent.modern += streams;
    },
    listened: (uri) => legacy.listens(uri) || listenStreams.has(uri),
    *listenedUris() {
      yield* legacy.subscribedUris();
      for (const uri of listenStreams.uris()) if (!legacy.listens(uri)) yield uri;
    },
    resourceUpdates: () => ({ ...sent }),
    get openStreams() {
      return registry.size;
    },
    listeners: () => ({ legacy: legacy.subscribedSessions, modern: options.listens.held() }),
    async close() {
      registry.finishAll();
      await legacy.close();
      await modern.close();
    },
  };
}

/**
 * The SDK's listen router accepts any URI in `resourceSubscriptions`; a principal must not
 * hear about another principal's queue, so those URIs are dropped before it sees them. The
 * acknowledgement then echoes only what is honoured, as the 2026-07-28 listen rules ask.
 * Returns the URIs left, which the stream listens to.
 */
function honourOwnGroupsOnly(params: unknown, principal: string): string[] {
  const filter = (params as { notifications?: { resourceSubscriptions?: unknown } } | undefined)?.notifications;
  if (!filter || !Array.isArray(filter.resourceSubscriptions)) return [];
  const honoured = filter.resourceSubscriptions.filter((uri: unknown) => {
    let group: string | undefined;
    try {
      group = typeof uri === 'string' ? groupOfUri(uri) : undefined;
    } catch {
      return false; // malformed percent-encoding: not a URI anything is published under
    }
    return group === undefined || ownsGroup(principal, group);
  });
  filter.resourceSubscriptions = honoured;
  return honoured.filter((uri): uri is string => typeof uri === 'string');
}

/** The `resourceSubscriptions` a listen request asks for, as sent. */
function listenedUris(params: unknown): unknown[] {
  const uris = (params as { notifications?: { resourceSubscriptions?: unknown } } | undefined)?.notifications?.resourceSubscriptions;
  return Array.isArray(uris) ? uris : [];
}

function internalError(res: ServerResponse): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32603, message: 'Internal error' } }));
}
