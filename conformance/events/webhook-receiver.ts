/**
 * The suite's webhook endpoint: a loopback HTTP server (127.0.0.1, a port the OS picks) that
 * serves one path per callback URL a scenario subscribes, each with the subscriber's secret
 * and a way of answering. Every POST is recorded with its headers and raw body, and checked
 * with the `standardwebhooks` library (signature, the three headers, timestamp freshness) —
 * an off-the-shelf verifier, as the draft says a receiver can use.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { Arrivals, type Json } from './wire.js';

/**
 * How a path answers: `echo` (a verified `verification` envelope gets its challenge back,
 * any other verified POST 200 `{}`), `not-found` (404 to everything), `no-echo` (200 `{}`:
 * reachable, but it never proves intent). An unverified POST is answered 401.
 */
export type Answer = 'echo' | 'not-found' | 'no-echo';

/** One POST the receiver took. */
export interface Post {
  path: string;
  /** The Standard Webhooks headers and `x-mcp-subscription-id`, as sent. */
  headers: Record<(typeof HEADERS)[number], string | undefined>;
  raw: string;
  /** The body, when the signature verified under the path's secret. */
  body: Json | undefined;
  /** Why it did not verify. */
  problem: string | undefined;
  /** When the POST arrived (ms since the epoch). */
  at: number;
}

export const HEADERS = ['webhook-id', 'webhook-timestamp', 'webhook-signature', 'x-mcp-subscription-id'] as const;

/** A fresh Standard Webhooks secret: `whsec_` and base64 of `bytes` random bytes. */
export function newWebhookSecret(bytes = 32): string {
  return `whsec_${randomBytes(bytes).toString('base64')}`;
}

export class WebhookReceiver {
  readonly posts = new Arrivals<Post>();
  readonly #paths = new Map<string, { secret: string; answer: Answer }>();
  /** A prefix no earlier run used: the server cannot have verified these URLs before. */
  readonly #prefix = `/hooks/${randomBytes(6).toString('hex')}`;

  private constructor(
    private readonly server: Server,
    private readonly origin: string,
  ) {}

  static async start(): Promise<WebhookReceiver> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const receiver = new WebhookReceiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    server.on('request', (req, res) => {
      void receiver.#handle(req).then(
        ({ status, body }) => res.writeHead(status, { 'content-type': 'application/json' }).end(body),
        () => res.writeHead(500).end(),
      );
    });
    return receiver;
  }

  /** A callback URL of its own, verified with `secret` and answered as `answer`. */
  endpoint(name: string, secret: string, answer: Answer = 'echo'): string {
    const path = `${this.#prefix}/${name}`;
    this.#paths.set(path, { secret, answer });
    return `${this.origin}${path}`;
  }

  /** The POSTs to `url`'s path so far, in arrival order. */
  postsTo(url: string): Post[] {
    const path = new URL(url).pathname;
    return this.posts.items.filter((post) => post.path === path);
  }

  /** The first POST to `url`, from the `from`-th POST received on, that `match`es; undefined after `ms`. */
  next(url: string, match: (post: Post) => boolean, ms: number, from: number): Promise<Post | undefined> {
    const path = new URL(url).pathname;
    return this.posts.waitFor((post) => post.path === path && match(post), ms, from);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage): Promise<{ status: number; body: string }> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const path = new URL(req.url ?? '/', this.origin).pathname;
    const route = this.#paths.get(path);
    if (req.method !== 'POST' || route === undefined) return { status: 404, body: '{}' };
    const raw = Buffer.concat(chunks).toString('utf8');
    const header = (name: string) => (typeof req.headers[name] === 'string' ? (req.headers[name] as string) : undefined);
    const headers = Object.fromEntries(HEADERS.map((name) => [name, header(name)])) as Post['headers'];
    let body: Json | undefined;
    let problem: string | undefined;
    try {
      body = new Webhook(route.secret).verify(raw, headers as Record<string, string>) as Json;
    } catch (error) {
      problem = error instanceof Error ? error.message : String(error);
    }
    this.posts.push({ path, headers, raw, body, problem, at: Date.now() });
    if (route.answer === 'not-found') return { status: 404, body: '{}' };
    if (body === undefined) return { status: 401, body: '{}' };
    const echo = route.answer === 'echo' && body.type === 'verification';
    return { status: 200, body: JSON.stringify(echo ? { challenge: body.challenge } : {}) };
  }
}
