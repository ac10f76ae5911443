import { createServer, type Server, type Socket, connect } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP load balancer in front of relay instances, as an operator would run one: every new
 * connection goes to the current upstream; when an upstream dies its connections are cut
 * (the client sees the reset), and `route` points new connections elsewhere.
 */
export class Balancer {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #upstream: number;

  private constructor(server: Server, upstream: number) {
    this.#server = server;
    this.#upstream = upstream;
    server.on('connection', (client) => this.#forward(client));
  }

  static async start(upstreamPort: number): Promise<Balancer> {
    const server = createServer();
    const balancer = new Balancer(server, upstreamPort);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return balancer;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Sends new connections to `port` from now on. */
  route(port: number): void {
    this.#upstream = port;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #forward(client: Socket): void {
    const upstream = connect(this.#upstream, '127.0.0.1');
    for (const socket of [client, upstream]) {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }
}
