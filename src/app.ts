import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { RelayConfig } from './config.js';
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

export function createHttpApp(log: EventLog): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', async (_req, res) => {
    res.json({ status: 'ok', store: log.kind, head: await log.head() });
  });
  return app;
}

/** Builds the backends, wires the parts, binds the HTTP server and starts retention. */
export async function startRelay(config: RelayConfig, logger: Logger): Promise<Relay> {
  const log = openLog(config);
  const app = createHttpApp(log);
  const server = await listen(app, config.host, config.port).catch(async (error: unknown) => {
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
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await log.close();
    },
  };
}

function listen(app: express.Express, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (error?: Error) => (error ? reject(error) : resolve(server)));
  });
}
