import type { IncomingMessage, ServerResponse } from 'node:http';
import { refused, type WebhookAnswer, type WebhookEndpoint } from './webhook-endpoint.js';
import { signedBy, signedHeaders } from './webhook-signature.js';

/**
 * A `node:http` request handler; works as Express middleware too. Under Express it takes a
 * raw body from `req.body` when that is a Buffer or string (`express.raw()`), and must not
 * run after a JSON body parser: the signature is over the exact bytes sent.
 */
export type WebhookHandler = (req: IncomingMessage & { body?: unknown }, res: ServerResponse) => Promise<void>;

/** The Events draft's largest webhook body (256 KiB), and room for a server that counts differently. */
const MAX_WEBHOOK_BODY_BYTES = 256 * 1024 + 16 * 1024;

const STATUS_OF = { missing_signature_headers: 400, invalid_timestamp: 401, timestamp_out_of_tolerance: 401 } as const;

/**
 * Serves webhook deliveries for the endpoints `endpoints()` lists: POST only (405), the raw
 * body read up to {@link MAX_WEBHOOK_BODY_BYTES} (413), the Standard Webhooks headers and a
 * timestamp within `toleranceSeconds` (400, 401), and a signature by the keys of one of the
 * endpoints (401), which then answers. Every refusal is JSON `{"error": reason}`.
 */
export function webhookHandler(endpoints: () => Iterable<WebhookEndpoint>, toleranceSeconds: number): WebhookHandler {
  return async (req, res) => {
    const answer = await receive(req, endpoints, toleranceSeconds);
    if (answer === undefined) return;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (answer.status === 405) headers.allow = 'POST';
    res.writeHead(answer.status, headers).end(JSON.stringify(answer.body));
  };
}

async function receive(req: IncomingMessage & { body?: unknown }, endpoints: () => Iterable<WebhookEndpoint>, toleranceSeconds: number): Promise<WebhookAnswer | undefined> {
  if (req.method !== 'POST') return refused(405, 'method_not_allowed');
  const raw = await rawBody(req);
  if (raw === undefined) return undefined;
  if (raw === 'too_large') return refused(413, 'payload_too_large');
  if (raw === 'parsed') return refused(500, 'raw_body_unavailable');
  const signed = signedHeaders(req.headers, toleranceSeconds, Date.now());
  if (typeof signed === 'string') return refused(STATUS_OF[signed], signed);
  for (const endpoint of endpoints()) {
    if (signedBy(endpoint.keys, signed, raw)) return endpoint.deliver(signed.webhookId, raw);
  }
  return refused(401, 'invalid_signature');
}

/**
 * The exact bytes of the body: `req.body` when a framework already read it raw, else the
 * stream. A body over the bound is read to its end and dropped, so the sender gets the 413
 * rather than a reset connection. `parsed` when a framework turned the body into something
 * else; `undefined` when the request broke off.
 */
async function rawBody(req: IncomingMessage & { body?: unknown }): Promise<Buffer | 'too_large' | 'parsed' | undefined> {
  const given = req.body;
  if (Buffer.isBuffer(given) || typeof given === 'string') {
    const bytes = Buffer.isBuffer(given) ? given : Buffer.from(given, 'utf8');
    return bytes.length > MAX_WEBHOOK_BODY_BYTES ? 'too_large' : bytes;
  }
  if (given !== undefined || req.readableEnded) return 'parsed';
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_WEBHOOK_BODY_BYTES) chunks.push(chunk);
      else chunks.length = 0;
    });
    req.on('end', () => resolve(size > MAX_WEBHOOK_BODY_BYTES ? 'too_large' : Buffer.concat(chunks, size)));
    // After `end` this settles nothing: the promise has its value.
    req.on('close', () => resolve(undefined));
    req.on('error', () => resolve(undefined));
  });
}
