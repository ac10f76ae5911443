import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** A loopback HTTP server around `listener`; `url` ends in `/hooks/relay`. */
export async function serveOnLoopback(listener: RequestListener): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = createServer(listener);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/relay`,
    server,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

export interface SignOptions {
  id?: string;
  /** The `webhook-timestamp`; default now. */
  at?: Date;
  /** Signs with these secrets instead (each adds a `v1,` signature), or none at all. */
  secrets?: string[];
  /** Extra entries of `webhook-signature` before the real ones. */
  extra?: string[];
}

/** Standard Webhooks headers made by the `standardwebhooks` library: what any conforming sender sends. */
export function signedWith(secret: string, body: string, options: SignOptions = {}): Record<string, string> {
  const id = options.id ?? `msg_${randomUUID()}`;
  const at = options.at ?? new Date();
  const signatures = (options.secrets ?? [secret]).map((s) => new Webhook(s).sign(id, at, body));
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': [...(options.extra ?? []), ...signatures].join(' '),
  };
}

/** One POST; the status and the JSON answer. */
export async function post(url: string, body: string | ReadableStream<Uint8Array>, headers: Record<string, string>, method = 'POST') {
  const init: RequestInit & { duplex?: 'half' } = { method, headers, ...(method === 'GET' ? {} : { body }), ...(typeof body === 'string' ? {} : { duplex: 'half' }) };
  const res = await fetch(url, init);
  return { status: res.status, json: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

/** An occurrence as the relay sends it. */
export function occurrence(eventId: string, data: Record<string, unknown> = {}): string {
  return JSON.stringify({ eventId, name: 'cx_events', timestamp: new Date().toISOString(), data: { id: eventId, ...data }, cursor: eventId });
}
