import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { ZodError } from 'zod';
import type { RelayConfig } from './config.js';
import { ConfigError, isLoopbackHost, secretVariable } from './config.js';
import { providerKinds } from './ingest/provider.js';
import { WebhookReceiver } from './ingest/receiver.js';
import { createWebhookHandler, webhookSource } from './ingest/webhook-route.js';
import { bearerAuth, OPEN_PRINCIPAL, originCheck } from './mcp/access.js';
import { createMcpEndpoint, type McpEndpoint } from './mcp/mcp-endpoint.js';
import type { RelayContext } from './mcp/relay-context.js';
import { startResourceUpdates } from './mcp/resource-updates.js';
import type { EventLog } from './log/event-log.js';
import type { Logger } from './observe/logger.js';
import { MemoryEventLog } from './log/memory.js';
import { SqliteEventLog } from './log/sqlite.js';

/** A running relay: the composition root's product. */
export interface Relay {
  readonly log: EventLog;
  /** The bound address, e.g. `http://127.0.0.1:8787`. */
  readonly url: string;
  close(): Promise<void>;
}

export function openLog(config: RelayConfig): EventLog {
  const store = config.store;
  if (store.kind === 'memory') return new MemoryEventLog(config.log);
  return new SqliteEventLog({ path: store.path, synchronous: store.synchronous, ...config.log });
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
  context: RelayContext;
}

export function createHttpApp(log: EventLog, config: RelayConfig, logger: Logger): HttpParts {
  const app = express();
  app.disable('x-powered-by');
  const ingest = createWebhookHandler({
    log,
    receivers: buildReceivers(config),
    howToConfigure: howToConfigure(config),
    maxBodyBytes: config.webhooks.maxBodyBytes,
    now: Date.now,
    logger,
  });
  const principals = config.apiKeys.size > 0 ? [...config.apiKeys.values()] : [OPEN_PRINCIPAL];
  const context: RelayContext = { log, knownGroups: new Set(principals), nextPollMs: 5000 };
  const mcp = createMcpEndpoint(context, {
    heartbeatMs: config.mcp.heartbeatMs,
    lifetimeMs: config.mcp.streamLifetimeMs,
    bufferBytes: config.mcp.streamBufferBytes,
    maxStreamsPerPrincipal: config.mcp.maxStreamsPerPrincipal,
    resumeWindowMs: config.mcp.resumeWindowMs,
    logger,
  });
  app.all(
    '/mcp',
    originCheck({ loopbackOnly: isLoopbackHost(config.host), allowedOrigins: config.allowedOrigins }),
    bearerAuth(config.apiKeys),
    express.json({ limit: '4mb', type: () => true }),
    mcp.handler,
  );
  app.use('/mcp', jsonParseError);
  app.get('/healthz', async (_req, res) => {
    res.json({ status: 'ok', store: log.kind, head: await log.head() });
  });
  const listener: RequestListener = (req, res) => {
    const source = webhookSource(req);
    if (source === undefined) app(req, res);
    else void ingest(req, res, source);
  };
  return { listener, app, mcp, context };
}

/** A body that is not JSON gets JSON-RPC's parse error, not express's HTML page. */
const jsonParseError: express.ErrorRequestHandler = (error: { type?: string; status?: number }, _req, res, next) => {
  if (error.type !== 'entity.parse.failed' && error.type !== 'entity.too.large') return next(error);
  res.status(error.status ?? 400).json({ jsonrpc: '2.0', id: null, error: { code: -32700, message: error.type === 'entity.too.large' ? 'request too large' : 'Parse error' } });
};

/** Builds the backends, wires the parts, binds the HTTP server and starts retention. */
export async function startRelay(config: RelayConfig, logger: Logger): Promise<Relay> {
  const log = openLog(config);
  let parts: HttpParts;
  try {
    parts = createHttpApp(log, config, logger);
  } catch (error) {
    await log.close();
    throw error;
  }
  const stopResourceUpdates = await startResourceUpdates(parts.context, parts.mcp);

  const server = await listen(parts.listener, config.host, config.port).catch(async (error: unknown) => {
    await log.close();
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
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    log,
    url: `http://${host}:${port}`,
    async close() {
      clearInterval(retention);
      stopResourceUpdates();
      await parts.mcp.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await log.close();
    },
  };
}

function listen(listener: RequestListener, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer(listener);
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
