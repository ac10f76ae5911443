import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebhookHandler } from '../../../client/index.js';

/** How a delivery is lost: its connection cut before the handler sees it, or after the handler ran, instead of the answer. */
export type Loss = 'request' | 'answer';

/**
 * The app's side of webhook mode: a loopback HTTP server that mounts the client's
 * `webhookHandler` at `/hooks/relay` and can lose deliveries on purpose. A lost answer
 * makes the relay deliver again an event the client already handled.
 */
export class CallbackServer {
  readonly #losses: Loss[] = [];
  #server: Server | undefined;
  /** Deliveries lost so far. */
  lost = 0;
  url = '';

  constructor(private readonly handler: WebhookHandler) {}

  async listen(): Promise<this> {
    const server = createServer((req, res) => {
      const loss = this.#losses.shift();
      if (loss === 'request') {
        this.lost++;
        req.socket.destroy();
        return;
      }
      if (loss === 'answer') {
        res.writeHead = (() => res) as never;
        res.end = (() => {
          this.lost++;
          req.socket.destroy();
          return res;
        }) as never;
      }
      void this.handler(req, res);
    });
    this.#server = server;
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/relay`;
    return this;
  }

  /** The next delivery to arrive is lost this way. */
  loseNext(loss: Loss): void {
    this.#losses.push(loss);
  }

  async close(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  }
}
