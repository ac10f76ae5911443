import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Event } from '../events/event.js';
import type { EventLog } from '../log/event-log.js';
import { LogError } from '../log/log-error.js';
import type { Logger } from '../observe/logger.js';
import { RepeatedFailures } from '../observe/repeated-failures.js';
import { requestIdOf } from '../observe/request-id.js';
import { readBody } from './read-body.js';
import type { WebhookReceiver } from './receiver.js';

export interface WebhookRouteOptions {
  log: EventLog;
  /** Configured sources by route name. */
  receivers: ReadonlyMap<string, WebhookReceiver>;
  /** For a source that is not configured: the sentence telling an operator how to configure it. */
  howToConfigure(source: string): string;
  maxBodyBytes: number;
  now: () => number;
  logger: Logger;
  /**
   * Told every answer to a delivery after it is sent: `outcome` is `accepted`, `duplicate` or
   * the rejection reason code; `event` is the committed event when accepted. A handshake the
   * provider answered itself (a verification challenge) is no delivery and is not told.
   */
  observe?(source: string, outcome: string, event: Event | null): void;
}

/** `application/json`, or any `+json` type, with or without parameters. */
const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/** The answer, and what it was for the log line: `accepted`, `duplicate`, `answered` (a handshake) or the reason code. */
type Outcome = { status: number; body: Record<string, unknown>; result: string; event?: Event | null };

function refusal(status: number, error: string, message: string): Outcome {
  return { status, body: { error, message }, result: error };
}

function flatHeaders(headers: IncomingHttpHeaders): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers)) out[name] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}

/**
 * `POST /webhooks/:source`. The sender gets 200 only after the event — or the proof it is
 * a duplicate — is committed, and 5xx only when that commit failed, so its retries are
 * never wasted and never needed for anything else. Never 3xx (senders count it as a
 * failure) and never 410 (Standard-Webhooks senders disable the endpoint on it). Error
 * bodies carry a reason code and a sentence; never a secret, a header value or the payload.
 */
export function createWebhookHandler(options: WebhookRouteOptions): (req: IncomingMessage, res: ServerResponse, source: string) => Promise<void> {
  // A store outage fails every provider retry alike: its error is logged once per interval.
  const commitFailures = new RepeatedFailures(options.logger);
  return async (req, res, source) => {
    const outcome = await handle(source, req, options, commitFailures);
    const body = JSON.stringify(outcome.body);
    const requestId = requestIdOf(req.headers['x-request-id']);
    const headers: Record<string, string | number> = { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'x-request-id': requestId };
    if (outcome.status === 413) headers.connection = 'close';
    res.writeHead(outcome.status, headers).end(body);
    const { result } = outcome;
    options.logger.info({ source: source.slice(0, 64), status: outcome.status, outcome: result, id: outcome.body.id, requestId }, 'webhook');
    if (result !== 'answered') options.observe?.(source, result, outcome.event ?? null);
  };
}

const WEBHOOK_PATH = /^\/webhooks\/([^/?#]+)\/?(?:[?#]|$)/;

/**
 * The source a `POST /webhooks/<source>` names, else undefined. Webhooks are served on
 * plain `node:http`, ahead of the express app: the framework's per-request work was most
 * of ingest's cost (see bench/README.md, ingest).
 */
export function webhookSource(req: IncomingMessage): string | undefined {
  if (req.method !== 'POST') return undefined;
  return WEBHOOK_PATH.exec(req.url ?? '')?.[1];
}

async function handle(source: string, req: IncomingMessage, options: WebhookRouteOptions, commitFailures: RepeatedFailures): Promise<Outcome> {
  const receiver = options.receivers.get(source);
  if (!receiver) return refusal(404, 'unknown_source', options.howToConfigure(source));
  if (!JSON_TYPE.test(req.headers['content-type'] ?? '')) {
    return refusal(415, 'unsupported_media_type', 'webhook bodies must be sent as application/json');
  }
  const read = await readBody(req, options.maxBodyBytes);
  if (!read.ok) {
    return read.reason === 'body_too_large'
      ? refusal(413, 'body_too_large', `webhook bodies are limited to ${options.maxBodyBytes} bytes`)
      : refusal(400, 'body_aborted', 'the request body ended early');
  }
  const received = receiver.receive({ rawBody: read.body, headers: flatHeaders(req.headers) }, options.now());
  if (!received.ok) return refusal(received.status, received.reason, received.message);
  if ('reply' in received) return { status: 200, body: received.reply, result: 'answered' };
  try {
    const { id, duplicate, event } = await options.log.append(received.event);
    return { status: 200, body: { received: true, id, duplicate }, result: duplicate ? 'duplicate' : 'accepted', event };
  } catch (error) {
    if (error instanceof LogError && error.code === 'invalid_event') return refusal(400, 'invalid_event', 'the delivery does not make a valid event');
    commitFailures.log('error', { err: error, source }, 'webhook commit failed');
    return refusal(503, 'commit_failed', 'the event could not be stored; retry later');
  }
}
