import type { IncomingMessage, ServerResponse } from 'node:http';
import type express from 'express';
import { LogError } from '../log/log-error.js';
import { MemoryError } from '../customer-memory/customer-memory.js';
import type { Logger } from '../observe/logger.js';
import { RepeatedFailures } from '../observe/repeated-failures.js';
import { IssuerUnavailable } from './issuer-keys.js';
import { JSON_TOO_DEEP } from './json-depth.js';

/** A store that cannot be reached, or is closed: the same request may succeed later. */
export function isStoreFailure(error: unknown): boolean {
  if (error instanceof LogError) return error.code === 'store_unavailable' || error.code === 'closed';
  if (error instanceof MemoryError) return error.code === 'store_unavailable';
  return error instanceof Error && error.name === 'SqliteError';
}

/** Every HTTP error answer: JSON `{ error: <reason code>, message }`; never a path, a stack or a payload. */
export function sendError(res: ServerResponse, status: number, error: string, message: string, headers: Record<string, string> = {}): void {
  const body = JSON.stringify({ error, message });
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), ...headers }).end(body);
}

/** Any path no route serves. */
export const notFound: express.RequestHandler = (_req, res) => sendError(res, 404, 'not_found', 'nothing is served at this path');

/** A path that exists, asked with a method it does not answer; `allow` lists the ones it does. */
export function methodNotAllowed(allow: string): express.RequestHandler {
  return (_req, res) => sendError(res, 405, 'method_not_allowed', `this path answers ${allow} only`, { allow });
}

interface Failure {
  status: number;
  error: string;
  message: string;
}

/** What a thrown error tells the client: a reason code and a sentence of our own. */
function failureOf(error: unknown): Failure {
  if (isStoreFailure(error)) return { status: 503, error: 'store_unavailable', message: 'the store is not reachable; retry shortly' };
  if (error instanceof IssuerUnavailable) return { status: 503, error: 'issuer_unavailable', message: "the token issuer's signing keys could not be fetched; retry shortly" };
  // The router decodes path parameters before any handler runs; bad escapes are the client's.
  if (error instanceof URIError) return { status: 400, error: 'malformed_uri', message: 'the path has malformed percent-encoding' };
  if (error instanceof MemoryError && error.code === 'invalid_input') return { status: 400, error: 'invalid_input', message: error.message };
  // The operator API hands the log's refusals of its arguments back as they are.
  if (error instanceof LogError && error.code === 'invalid_argument') return { status: 400, error: 'invalid_input', message: error.message };
  if (error instanceof LogError && error.code === 'unknown_event') return { status: 404, error: 'unknown_event', message: error.message };
  const status = (error as { status?: unknown }).status;
  // The body parser's other refusals (http-errors: an unknown encoding or charset, an aborted
  // body); their messages are written for clients.
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, error: status === 415 ? 'unsupported_media_type' : 'bad_request', message: (error as Error).message };
  }
  return { status: 500, error: 'internal_error', message: 'the relay could not answer this request' };
}

/** The body parser's refusals that get a JSON-RPC error on `/mcp`, by its error `type`. */
const JSON_RPC_BODY_REFUSALS: Record<string, { code: number; error: string; message: string }> = {
  'entity.parse.failed': { code: -32700, error: 'invalid_json', message: 'Parse error' },
  'entity.too.large': { code: -32700, error: 'body_too_large', message: 'request too large' },
  [JSON_TOO_DEEP]: { code: -32600, error: 'too_deep', message: 'Invalid Request' },
};

/**
 * The one place a failed request is answered and logged, for every route (webhooks
 * included): JSON with a reason code, one structured log line — client errors at `info`
 * without a stack, failures of ours or of the store with the error, repeated ones once per
 * interval ({@link RepeatedFailures}).
 */
export class ErrorAnswers {
  readonly #logger: Logger;
  readonly #repeated: RepeatedFailures;

  constructor(logger: Logger) {
    this.#logger = logger;
    this.#repeated = new RepeatedFailures(logger);
  }

  /** Answers `error` on `res`, or cuts the response when its head is already sent. */
  answer(error: unknown, req: IncomingMessage, res: ServerResponse): void {
    const failure = failureOf(error);
    this.#log(req, failure, error);
    if (res.headersSent) res.destroy();
    else sendError(res, failure.status, failure.error, failure.message);
  }

  /** Mounted last on the app. */
  readonly handler: express.ErrorRequestHandler = (error, req, res, _next) => this.answer(error, req, res);

  /**
   * Mounted on `/mcp` after its body parser: a body that cannot be a JSON-RPC message gets a
   * JSON-RPC error — -32700 when it is not JSON or too large, -32600 when it nests deeper than
   * the bound — and anything else goes on to {@link handler}.
   */
  readonly jsonRpcBody: express.ErrorRequestHandler = (error: { type?: unknown; status?: number; message?: string }, req, res, next) => {
    const refusal = JSON_RPC_BODY_REFUSALS[String(error.type)];
    if (!refusal) return next(error);
    const message = refusal.code === -32600 ? `${refusal.message}: ${error.message}` : refusal.message;
    const status = error.status ?? 400;
    this.#log(req, { status, error: refusal.error, message }, error);
    res.status(status).json({ jsonrpc: '2.0', id: null, error: { code: refusal.code, message } });
  };

  #log(req: IncomingMessage, failure: Failure, error: unknown): void {
    // Express strips a mount point from `url`; webhooks never pass through express.
    const url = (req as { originalUrl?: string }).originalUrl ?? req.url ?? '';
    const fields = { method: req.method, path: url.split('?')[0]!.slice(0, 200), status: failure.status, error: failure.error };
    if (failure.status < 500) this.#logger.info(fields, 'request refused');
    else this.#repeated.log(failure.status === 503 ? 'warn' : 'error', { ...fields, err: error }, 'request failed');
  }
}
