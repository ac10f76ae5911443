import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { Inbox } from './sse-reader.js';

/** A fresh `whsec_` secret of 32 random bytes. */
export function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** One POST the receiver took, verified by the official `standardwebhooks` library. */
export interface Delivery {
  webhookId: string;
  subscriptionId: string | undefined;
  body: Record<string, any>;
  /** What the receiver answered. */
  status: number;
}

/** What the test wants the receiver to answer to the next POST; default 200 (and the challenge echo). */
export type Script = (request: { body: Record<string, any>; webhookId: string }) => number | Answer | 'hang';

/** An answer, sent after `delayMs` when given. */
export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  delayMs?: number;
}

/**
 * A webhook subscriber on loopback: verifies every POST's Standard Webhooks signature with the
 * `standardwebhooks` library (a POST that fails verification is answered 401 and recorded in
 * `unverified`), echoes verification challenges, and answers by `script`.
 */
export class CallbackReceiver {
  readonly deliveries = new Inbox<Delivery>();
  readonly unverified: string[] = [];
  /** Every request as it arrived, verified or not: method and path. */
  readonly hits: string[] = [];
  script: Script = () => 200;
  /** Served at `/.well-known/mcp-webhook-receiver.json` when set (else 404). */
  document: { receivers: string[] } | undefined;
  secrets: string[];
  #server: Server | undefined;
  url = '';

  constructor(secret: string = newSecret()) {
    this.secrets = [secret];
  }

  get secret(): string {
    return this.secrets[0]!;
  }

  /** Listens on `port` (by default a free one; a stopped receiver's own port starts it again there); rejects when it is taken. */
  async start(port = 0): Promise<this> {
    const server = createServer((req, res) => {
      void this.#handle(req).then(
        (answer) => {
          if (answer === 'hang') return;
          res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(answer.body ?? '{}');
        },
        () => res.writeHead(500).end(),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/relay`;
    return this;
  }

  get port(): number {
    return (this.#server!.address() as AddressInfo).port;
  }

  /** Events (not control envelopes) delivered with a 2xx, deduplicated by `webhook-id`: what an idempotent receiver keeps. */
  accepted(): string[] {
    const seen = new Set<string>();
    const ids: string[] = [];
    for (const d of this.deliveries.items) {
      if (d.status < 200 || d.status >= 300 || d.body.type !== undefined || seen.has(d.webhookId)) continue;
      seen.add(d.webhookId);
      ids.push(d.body.eventId as string);
    }
    return ids;
  }

  /** Control envelopes of `type` received. */
  controls(type: string): Delivery[] {
    return this.deliveries.items.filter((d) => d.body.type === type);
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage): Promise<Answer | 'hang'> {
    this.hits.push(`${req.method} ${req.url}`);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
    if (req.method === 'GET' && req.url === '/.well-known/mcp-webhook-receiver.json' && this.document) {
      return { status: 200, body: JSON.stringify(this.document) };
    }
    if (req.method !== 'POST') return { status: 404 };
    let body: Record<string, any> | undefined;
    for (const secret of this.secrets) {
      try {
        body = new Webhook(secret).verify(raw, headers) as Record<string, any>;
        break;
      } catch {
        // the next secret, or unverified
      }
    }
    if (body === undefined) {
      this.unverified.push(raw);
      return { status: 401 };
    }
    const webhookId = headers['webhook-id']!;
    const answer = this.script({ body, webhookId });
    const normalized = answer === 'hang' ? answer : typeof answer === 'number' ? { status: answer } : answer;
    const status = normalized === 'hang' ? 0 : normalized.status;
    if (normalized !== 'hang' && normalized.delayMs) await new Promise((resolve) => setTimeout(resolve, normalized.delayMs));
    this.deliveries.push({ webhookId, subscriptionId: headers['x-mcp-subscription-id'], body, status });
    if (normalized !== 'hang' && body.type === 'verification' && status < 300 && normalized.body === undefined) {
      return { ...normalized, body: JSON.stringify({ challenge: body.challenge }) };
    }
    return normalized;
  }
}
