import type express from 'express';
import { isStoreFailure } from './errors.js';
import type { EventLog } from '../log/event-log.js';
import type { GroupVisibility, Observability } from '../observe/observability.js';
import { parseSince, statusReport } from '../observe/status-report.js';

/** How long `/readyz` waits for the store before calling it unavailable. */
const READY_TIMEOUT_MS = 2000;

/** Which consumer groups the request's principal may see. */
export type ViewerScope = (req: express.Request) => GroupVisibility;

/** `GET /metrics`: Prometheus text from the relay's own registry, with the groups the viewer may see. */
export function metricsRoute(observability: Observability, scope: ViewerScope): express.RequestHandler {
  return async (req, res) => {
    res.type(observability.metrics.registry.contentType).send(await observability.metricsText(scope(req)));
  };
}

/** `GET /status?since=1h`: the windowed report; a bad `since` is 400 with a reason code. */
export function statusRoute(observability: Observability, scope: ViewerScope): express.RequestHandler {
  return async (req, res) => {
    const since = parseSince(typeof req.query.since === 'string' ? req.query.since : req.query.since === undefined ? undefined : '');
    if (!since.ok) {
      res.status(400).json({ error: since.error, message: since.message });
      return;
    }
    res.json(await statusReport(observability, since.ms, scope(req)));
  };
}

/** `GET /healthz`: the store and its head; 503 with the reason when the store cannot be read. */
export function healthRoute(log: EventLog): express.RequestHandler {
  return async (_req, res) => {
    let head: string | null;
    try {
      head = await log.head();
    } catch (error) {
      if (!isStoreFailure(error)) throw error;
      unavailable(res, 'store_unavailable');
      return;
    }
    res.json({ status: 'ok', store: log.kind, head });
  };
}

/** `GET /readyz`: 200 when the store answers within a timeout, else 503 with the reason. */
export function readyRoute(log: EventLog): express.RequestHandler {
  return async (_req, res) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error('timeout')), READY_TIMEOUT_MS);
    });
    try {
      const head = await Promise.race([log.head(), timeout]);
      res.json({ status: 'ready', store: log.kind, head });
    } catch (error) {
      unavailable(res, (error as Error).message === 'timeout' ? 'store_timeout' : 'store_unavailable');
    } finally {
      clearTimeout(timer);
    }
  };
}

function unavailable(res: express.Response, reason: 'store_timeout' | 'store_unavailable'): void {
  const message = reason === 'store_timeout' ? `the store did not answer within ${READY_TIMEOUT_MS} ms` : 'the store cannot be read';
  res.status(503).json({ status: 'unavailable', error: reason, message });
}
