import type { IncomingMessage, ServerResponse } from 'node:http';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { CLIENT_CAPABILITIES_META_KEY, createMcpHandler, type InboundClassificationOutcome, type InboundLegacyRoute } from '@modelcontextprotocol/server';
import { principalOf } from '../../http/access.js';
import type { Budget } from '../../http/budget.js';
import type { Logger } from '../../observe/logger.js';
import { ownsGroup } from '../group-registry.js';
import { ListenerIndex } from '../listener-index.js';
import type { RelayContext } from '../relay-context.js';
import { groupOfUri } from '../resource-uris.js';
import { MAX_SUBSCRIPTIONS, tooManySubscriptions } from '../resources.js';
import { createRelayServer } from '../server-factory.js';
import { invalidSpecParams } from '../spec-params.js';
import type { StreamRegistry } from '../stream-registry.js';
import { type PushSettings, sendError } from '../stream-requests.js';
import { limitReached } from '../wire-errors.js';
import { serveModernStream } from './streams.js';

export interface ModernSettings extends PushSettings {
  /** 2026-07-28 `subscriptions/listen` streams. */
  listens: Budget;
  logger: Logger;
}

/** What the classifier made of a request that is not 2025-era traffic: a modern request, or one the SDK handler refuses. */
export type ModernRoute = Exclude<InboundClassificationOutcome, InboundLegacyRoute>;

/**
 * MCP 2026-07-28 clients: stateless requests with the `_meta` envelope, each served by a
 * fresh server from the one definition through the SDK's handler — except `events/stream`,
 * which the relay serves itself ({@link serveModernStream}). `subscriptions/listen` is held
 * to the listens budget and to the principal's own groups before the SDK sees it; its open
 * responses are indexed by URI, so a resource update is published only when someone listens.
 */
export class ModernRequests {
  readonly #handler: ReturnType<typeof createMcpHandler>;
  readonly #node: ReturnType<typeof toNodeHandler>;
  /** Open `subscriptions/listen` responses by the URIs they listen to: the SDK's bus only hears of those URIs. */
  readonly #listenStreams = new ListenerIndex<ServerResponse>();

  constructor(
    private readonly context: RelayContext,
    private readonly registry: StreamRegistry,
    private readonly settings: ModernSettings,
  ) {
    this.#handler = createMcpHandler(
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
        maxSubscriptions: settings.listens.limits.total,
        onerror: (error) => settings.logger.warn({ err: error }, 'mcp request failed'),
      },
    );
    this.#node = toNodeHandler(this.#handler);
  }

  /** Open `subscriptions/listen` streams. */
  get listening(): number {
    return this.settings.listens.held();
  }

  async handle(req: IncomingMessage & { auth?: Parameters<typeof principalOf>[0] }, res: ServerResponse, route: ModernRoute, body: unknown): Promise<void> {
    if (route.kind === 'modern' && route.messageKind === 'request' && route.message.method === 'events/stream') {
      return serveModernStream(req, res, route.message, this.context, this.registry, this.settings);
    }
    if (route.kind === 'modern' && route.messageKind === 'request' && route.message.method === 'subscriptions/listen') {
      const principal = principalOf(req.auth);
      if (listenedUris(route.message.params).length > MAX_SUBSCRIPTIONS) return sendError(res, 200, route.message.id, tooManySubscriptions());
      const slot = this.settings.listens.take(principal);
      if (!slot.ok) return sendError(res, 200, route.message.id, limitReached(slot.refusal));
      this.#watchListen(res, honourOwnGroupsOnly(route.message.params, principal));
      res.once('close', slot.release);
    }
    const invalid = invalidSpecParams(body, 'modern');
    if (invalid) return sendError(res, 200, invalid.id, invalid.error);
    return this.#node(req, res, body);
  }

  /** Publishes `uri` on the SDK's listen bus if an open listen stream names it; returns how many streams do. */
  resourceUpdated(uri: string): number {
    // The SDK offers each published URI to every open listen stream: publish only what someone listens to.
    const streams = this.#listenStreams.listenersOf(uri).size;
    if (streams > 0) this.#handler.notify.resourceUpdated(uri);
    return streams;
  }

  /** Whether an open listen stream names `uri`. */
  listens(uri: string): boolean {
    return this.#listenStreams.has(uri);
  }

  /** The URIs some open listen stream names. */
  listenedUris(): IterableIterator<string> {
    return this.#listenStreams.uris();
  }

  async close(): Promise<void> {
    await this.#handler.close();
  }

  #watchListen(res: ServerResponse, uris: readonly string[]): void {
    for (const uri of uris) this.#listenStreams.add(uri, res);
    res.once('close', () => {
      for (const uri of uris) this.#listenStreams.delete(uri, res);
    });
  }
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
export function listenedUris(params: unknown): unknown[] {
  const uris = (params as { notifications?: { resourceSubscriptions?: unknown } } | undefined)?.notifications?.resourceSubscriptions;
  return Array.isArray(uris) ? uris : [];
}
