import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { ZodError } from 'zod';
import type { RelayConfig } from './config.js';
import { ConfigError, isLoopbackHost, principalProblem, secretVariable } from './config.js';
import { ADMIN_PATHS, adminRouter } from './admin/admin-router.js';
import { bearerAuth, isAdmin, OPEN_PRINCIPAL, originCheck } from './http/access.js';
import { AccessTokens } from './http/access-tokens.js';
import { Budget } from './http/budget.js';
import { ErrorAnswers, methodNotAllowed, notFound } from './http/errors.js';
import { jsonRpcBody } from './http/json-body.js';
import { ProtectedResource } from './http/protected-resource.js';
import { SCOPES, type Scope } from './http/scopes.js';
import { providerKinds } from './ingest/provider.js';
import { WebhookReceiver } from './ingest/receiver.js';
import { createWebhookHandler, webhookSource } from './ingest/webhook-route.js';
import { dashboardRouter } from './dashboard/dashboard-route.js';
import { createFeedRoute, type FeedRoute } from './feed/feed-route.js';
import { GroupRegistry, groupScope } from './mcp/group-registry.js';
import { createMcpEndpoint, type McpEndpoint } from './mcp/mcp-endpoint.js';
import { mcpScopes } from './mcp/method-scopes.js';
import type { RelayContext } from './mcp/relay-context.js';
import { startResourceUpdates } from './mcp/resource-updates.js';
import type { EventLog } from './log/event-log.js';
import type { Logger } from './observe/logger.js';
import { healthRoute, metricsRoute, readyRoute, statusRoute } from './http/observe-routes.js';
import { Observability } from './observe/observability.js';
import { openBackend } from './backend.js';
import type { CustomerMemory } from './customer-memory/customer-memory.js';
import { filterFor } from './mcp/event-types.js';
import { suspensionError } from './mcp/wire-errors.js';
import type { CallbackTarget } from './outbound/callback-post.js';
import { CallbackDispatcher } from './outbound/dispatcher.js';
import { CallbackSubscriptions } from './outbound/subscriptions.js';
import type { WebhookSubscriptionStore } from './outbound/subscription-store.js';
import { builtInHandlers } from './reactions/built-in-handlers.js';
import { checkHandlers, type ReactionHandler } from './reactions/handler.js';
import { loadHandlerModules } from './reactions/load-handlers.js';
import { ReactionRunner } from './reactions/runner.js';

/** A running relay: the composition root's product. */
export interface Relay {
  readonly log: EventLog;
  /** What the reactions know per customer; `onChange` announces every applied write. */
  readonly memory: CustomerMemory;
  /** The reactions (group `relay/reactions`) and their run counts; `null` with `RELAY_REACTIONS=off`. */
  readonly reactions: ReactionRunner | null;
  /** The bound address, e.g. `http://127.0.0.1:8787`. */
  readonly url: string;
  close(): Promise<void>;
}

/** The built-in handlers, then the user's (`RELAY_HANDLERS`); a module that does not load stops the start. */
async function reactionHandlers(config: RelayConfig): Promise<ReactionHandler[]> {
  try {
    return checkHandlers([...builtInHandlers(), ...(await loadHandlerModules(config.reactions.handlerModules))], 'RELAY_HANDLERS');
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
}

/** One receiver per configured source; a source whose secrets are unusable stops the start. */
export function buildReceivers(config: RelayConfig): Map<string, WebhookReceiver> {
  const receivers = new Map<string, WebhookReceiver>();
  for (const source of config.webhooks.sources) {
    if (source.secrets.length === 0) continue;
    try {
      receivers.set(
        source.name,
        new WebhookReceiver({ provider: source.provider, source: source.name, secrets: source.secrets, toleranceS: config.webhooks.toleranceS }),
      );
    } catch (error) {
      const detail = error instanceof ZodError ? error.issues.map((i) => i.message).join('; ') : String(error);
      throw new ConfigError(`${source.secretVariable}: ${detail}`);
    }
  }
  return receivers;
}

function howToConfigure(config: RelayConfig): (source: string) => string {
  const declared = new Map(config.webhooks.sources.map((s) => [s.name, s]));
  return (name) => {
    const source = declared.get(name);
    if (source) return `webhook source "${name}" is not configured: set ${source.secretVariable} (comma-separated, current secret first)`;
    if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(name)) return 'no such webhook source';
    return `no webhook source "${name}": declare it with RELAY_SOURCES=${name}:<${providerKinds.join('|')}> and set ${secretVariable(name)}`;
  };
}

export interface HttpParts {
  /** The request listener: webhooks on plain node:http, everything else through `app`. */
  listener: RequestListener;
  app: express.Express;
  mcp: McpEndpoint;
  /** `GET /feed`: its open-feed count, and shutdown. */
  feed: FeedRoute;
  context: RelayContext;
  /** Metrics, drop tracking and the status report; `start()` runs its sweep. */
  observability: Observability;
  /** Outbound webhook delivery: started once the relay's own address is known (`target.self`). */
  callbacks: { dispatcher: CallbackDispatcher; target: CallbackTarget };
  /** This relay as an OAuth protected resource; its URL is the bound address's until `RELAY_PUBLIC_URL` says otherwise. */
  resource: ProtectedResource;
}

/** What the operator API needs of an access token: `events:read` to read events, `events:consume` to read groups, `relay:admin` to write. */
function operatorScopes(req: express.Request): Scope[] {
  if (req.method !== 'GET' && req.method !== 'HEAD') return [SCOPES.admin];
  return [req.baseUrl === '/events' ? SCOPES.read : SCOPES.consume];
}

/** The stores the HTTP app serves from (a {@link Backend}'s). */
export interface Stores {
  log: EventLog;
  memory: CustomerMemory;
  webhooks: WebhookSubscriptionStore;
}

/** Webhook subscriptions and their delivery, over the store and the log. */
function buildCallbacks(stores: Stores, config: RelayConfig, observability: Observability, logger: Logger) {
  const { callbacks } = config;
  const target: CallbackTarget = { policy: callbacks.egress, self: [], timeoutMs: callbacks.timeoutMs, connectTimeoutMs: Math.min(5000, callbacks.timeoutMs) };
  const dispatcher = new CallbackDispatcher({
    store: stores.webhooks,
    log: stores.log,
    target,
    retry: { delaysMs: callbacks.retryDelaysMs, jitter: 0.2, suspendAfterMs: callbacks.suspendAfterMs },
    filterOf: (subscription) => filterFor(subscription.name, JSON.parse(subscription.arguments)),
    observer: observability.callbacks,
    suspensionError,
    logger,
    leaseMs: callbacks.leaseMs,
    // Leases are renewed at scans once a third of them has passed: four scans per lease leave room.
    scanMs: Math.min(1000, Math.floor(callbacks.leaseMs / 4)),
  });
  observability.callbacks.watchSubscriptions(async () => {
    const all = await stores.webhooks.list();
    const active = all.filter((s) => s.active).length;
    return { active, suspended: all.length - active };
  });
  const subscriptions = new CallbackSubscriptions(stores.webhooks, stores.log, dispatcher, target, {
    ttlMs: callbacks.ttlMs,
    minTtlMs: 60_000,
    perPrincipal: callbacks.perPrincipal,
    secretGraceMs: 3_600_000,
    verificationsPerHostPerMinute: 10,
    durable: stores.webhooks.kind !== 'memory',
  });
  return { dispatcher, target, subscriptions };
}

export function createHttpApp(stores: Stores, config: RelayConfig, logger: Logger): HttpParts {
  const { log, memory } = stores;
  const app = express();
  app.disable('x-powered-by');
  const errors = new ErrorAnswers(logger);
  const receivers = buildReceivers(config);
  const resource = new ProtectedResource({ issuers: config.oauth?.issuers ?? [], publicUrl: config.reactions.publicUrl });
  const tokens = config.oauth && new AccessTokens(config.oauth, () => resource.url, principalProblem);
  const openAccess = config.apiKeys.size === 0 && !tokens;
  const principals = openAccess ? [OPEN_PRINCIPAL] : [...config.apiKeys.values()];
  const groups = new GroupRegistry({ log, perPrincipal: config.limits.groupsPerPrincipal, principals });
  const observability = new Observability({ log, logger, sources: receivers.keys(), groups, ...config.observe });
  const ingest = createWebhookHandler({
    log,
    receivers,
    howToConfigure: howToConfigure(config),
    maxBodyBytes: config.webhooks.maxBodyBytes,
    now: Date.now,
    logger,
    observe: (source, outcome, event) => observability.webhook(source, outcome, event),
  });
  const callbacks = buildCallbacks(stores, config, observability, logger);
  const context: RelayContext = {
    log,
    memory,
    groups,
    nextPollMs: 5000,
    delivery: observability.tracker,
    streams: observability.streams,
    longPolls: new Budget('long polls', config.limits.longPolls),
    webhooks: callbacks.subscriptions,
    subscribing: new Budget('webhook subscribes', { perPrincipal: 4, total: 64 }),
    openAccess,
  };
  const mcp = createMcpEndpoint(context, {
    heartbeatMs: config.mcp.heartbeatMs,
    lifetimeMs: config.mcp.streamLifetimeMs,
    bufferBytes: config.mcp.streamBufferBytes,
    streams: new Budget('push streams', config.limits.streams),
    listens: new Budget('listens', config.limits.listens),
    sessions: new Budget('sessions', config.limits.sessions),
    sessionIdleMs: config.limits.sessionIdleMs,
    resumeWindowMs: config.mcp.resumeWindowMs,
    logger,
  });
  observability.watchListeners(mcp);
  groups.watchListeners((uri) => mcp.listened(uri));
  // Every route that serves a principal: the Origin/Host check, then the bearer key or token, then the token's scopes.
  const access = [
    originCheck({ loopbackOnly: isLoopbackHost(config.host), allowedOrigins: config.allowedOrigins }),
    bearerAuth({ apiKeys: config.apiKeys, admins: config.adminPrincipals, tokens, resource }),
  ];
  const reading = resource.requireScopes(() => [SCOPES.read]);
  app.all('/mcp', ...access, jsonRpcBody, resource.requireScopes((req) => mcpScopes(req.body)), mcp.handler);
  app.use('/mcp', errors.jsonRpcBody);
  // Where handoff.requested links point a person: the same context agents read over MCP.
  app.get('/customers/:customerId/context', ...access, reading, async (req, res) => {
    res.json(await memory.get(String(req.params.customerId)));
  });
  app.get('/healthz', healthRoute(log));
  app.get('/readyz', readyRoute(log));
  app.get('/metrics', ...access, reading, metricsRoute(observability, groupScope));
  app.get('/status', ...access, reading, statusRoute(observability, groupScope));
  const feed = createFeedRoute({
    log,
    heartbeatMs: config.mcp.heartbeatMs,
    bufferBytes: config.mcp.streamBufferBytes,
    observer: observability.streams,
    budget: new Budget('feeds', config.limits.feeds),
  });
  app.get('/feed', ...access, reading, feed.handler);
  app.use(['/events', '/groups', '/replay'], ...access, resource.requireScopes(operatorScopes));
  app.use(
    adminRouter({
      log,
      webhooks: stores.webhooks,
      visible: groupScope,
      isAdmin: (req) => isAdmin(req.auth),
      filterOf: (subscription) => filterFor(subscription.name, JSON.parse(subscription.arguments)),
    }),
  );
  app.use(resource.router());
  app.use('/dashboard', dashboardRouter());
  // The paths above, asked with a method they do not answer; then any other path; then every error.
  app.all(['/healthz', '/readyz', '/metrics', '/status', '/feed', '/customers/:customerId/context'], methodNotAllowed('GET, HEAD'));
  app.all('/webhooks/:source', methodNotAllowed('POST'));
  app.all([...ADMIN_PATHS.get], methodNotAllowed('GET, HEAD'));
  app.all([...ADMIN_PATHS.getDelete], methodNotAllowed('GET, HEAD, DELETE'));
  app.all([...ADMIN_PATHS.post], methodNotAllowed('POST'));
  app.use(notFound);
  app.use(errors.handler);
  const listener: RequestListener = (req, res) => {
    const source = webhookSource(req);
    if (source === undefined) app(req, res);
    else ingest(req, res, source).catch((error: unknown) => errors.answer(error, req, res));
  };
  return { listener, app, mcp, feed, context, observability, callbacks: { dispatcher: callbacks.dispatcher, target: callbacks.target }, resource };
}

/** Builds the backends, wires the parts, binds the HTTP server and starts retention. */
export async function startRelay(config: RelayConfig, logger: Logger): Promise<Relay> {
  const backend = openBackend(config.store, config.log);
  const { log, memory } = backend;
  let parts: HttpParts;
  let handlers: ReactionHandler[] = [];
  try {
    await backend.checkDurability(logger);
    if (config.reactions.enabled) handlers = await reactionHandlers(config);
    parts = createHttpApp(backend, config, logger);
  } catch (error) {
    await backend.close();
    throw error;
  }
  const stopResourceUpdates = await startResourceUpdates(parts.context, parts.mcp, logger);

  const server = await listen(parts.listener, config).catch(async (error: unknown) => {
    await backend.close();
    throw error;
  });
  const retention = setInterval(() => {
    log
      .trim({ maxAgeMs: config.retention.maxAgeMs, maxEvents: config.retention.maxEvents })
      .then((result) => {
        if (result.removed > 0 || result.dedupKeysRemoved > 0) logger.info(result, 'retention applied');
      })
      .catch((error: unknown) => logger.error({ err: error }, 'retention failed'));
  }, config.retention.intervalMs);
  retention.unref();
  const { address, port } = server.address() as AddressInfo;
  parts.callbacks.target.self.push({ address, port });
  parts.callbacks.dispatcher.start();
  const host = address.includes(':') ? `[${address}]` : address;
  const url = `http://${host}:${port}`;
  parts.resource.bind(url);
  const reactions = config.reactions.enabled
    ? new ReactionRunner({ log, memory, handlers, publicUrl: config.reactions.publicUrl ?? url, leaseMs: config.reactions.leaseMs, logger })
    : null;
  if (reactions) parts.observability.watchReactions(reactions.recorder, reactions.group);
  parts.observability.start();
  await reactions?.start();
  return {
    log,
    memory,
    reactions,
    url,
    async close() {
      clearInterval(retention);
      await reactions?.stop();
      await parts.callbacks.dispatcher.close();
      await parts.observability.close();
      stopResourceUpdates();
      await parts.mcp.close();
      parts.feed.closeAll();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await backend.close();
    },
  };
}

/**
 * Binds the server with the `config.http` timeouts: a client that sends its headers, or its
 * whole request, too slowly gets 408 and a closed socket, and an idle keep-alive connection
 * is closed. They bound receiving a request only; a response (an SSE stream) may last.
 */
function listen(listener: RequestListener, config: RelayConfig): Promise<Server> {
  const { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs } = config.http;
  return new Promise((resolve, reject) => {
    const server = createServer(
      {
        headersTimeout: headersTimeoutMs,
        requestTimeout: requestTimeoutMs,
        keepAliveTimeout: keepAliveTimeoutMs,
        // How often node checks the two request timeouts (its default, 30 s, would let them overrun).
        connectionsCheckingInterval: Math.min(1000, headersTimeoutMs),
      },
      listener,
    );
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
