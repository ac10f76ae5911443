import { createServer, type Server, type Socket, connect } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP load balancer in front of relay instances (or a Redis server), as an operator would
 * run one: every new connection goes to the current upstream; when an upstream dies its
 * connections are cut (the client sees the reset), and `route` points new connections
 * elsewhere. `cut` drops every connection as a network fault would, and `holdReplies` stalls
 * the answers on a connection once the client has sent a given request.
 */
export class Balancer {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #upstream: number;
  #hold: { request: RegExp; held: () => void } | undefined;

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

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Sends new connections to `port` from now on. */
  route(port: number): void {
    this.#upstream = port;
  }

  /** Drops every open connection; new ones are still accepted. */
  cut(): void {
    for (const socket of this.#sockets) socket.destroy();
  }

  /**
   * On connections opened from now on, stops passing the upstream's answers on once the
   * client has sent bytes matching `request`; resolves when that first happens.
   */
  holdReplies(request: RegExp): Promise<void> {
    return new Promise((held) => (this.#hold = { request, held }));
  }

  async close(): Promise<void> {
    this.cut();
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
    const hold = this.#hold;
    if (hold) {
      client.on('data', (chunk: Buffer) => {
        if (!hold.request.test(chunk.toString('latin1'))) return;
        upstream.unpipe(client);
        upstream.pause();
        hold.held();
      });
    }
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }
}
