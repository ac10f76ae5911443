import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { signDelivery } from '../../../src/ingest/sign.js';
import { keys } from '../../support/mcp-clients.js';
import { secretEnv, testSecrets } from '../../support/relay.js';
import { logRecord } from '../../support/relay-process.js';

const cli = join(import.meta.dirname, '../../../src/cli.ts');

/** A loopback port nobody listens on right now (the OS picks it; the probe closes at once). */
export async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as { port: number };
  probe.close();
  await once(probe, 'close');
  return port;
}

/**
 * The real CLI (`node --import tsx src/cli.ts serve`) on a fixed port with the SQLite
 * store, so a test can SIGTERM it and start it again where the client expects it.
 */
export class RelayProcess {
  #child: ChildProcess | undefined;
  constructor(
    readonly port: number,
    readonly dbPath: string,
    private readonly env: Record<string, string> = {},
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts `serve` and resolves once it logged the `url` it listens on. */
  async start(): Promise<void> {
    const child = spawn(process.execPath, ['--import', 'tsx', cli, 'serve'], {
      env: {
        ...process.env,
        ...secretEnv,
        RELAY_API_KEYS: `${keys.alice}:alice,${keys.bob}:bob`,
        RELAY_LOG_LEVEL: 'info',
        HOST: '127.0.0.1',
        PORT: String(this.port),
        RELAY_STORE: `sqlite:${this.dbPath}`,
        // Every mode must get exactly the events sent; the reactions would append derived ones.
        RELAY_REACTIONS: 'off',
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = once(child, 'exit').then(() => {
      throw new Error(`serve exited before listening: ${stderr}`);
    });
    const listening = (async () => {
      for await (const line of createInterface({ input: child.stdout! })) {
        if (typeof logRecord(line)?.url === 'string') return;
      }
    })();
    await Promise.race([listening, exited]);
    child.stdout!.resume();
  }

  /** SIGTERM, and resolves with the exit code once the process is gone. */
  async stop(): Promise<number | null> {
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null) return child?.exitCode ?? null;
    const exit = once(child, 'exit') as Promise<[number | null]>;
    child.kill('SIGTERM');
    return (await exit)[0];
  }

  kill(): void {
    this.#child?.kill('SIGKILL');
    this.#child = undefined;
  }
}

/** Posts a signed Standard Webhooks delivery to a relay at `url`; resolves to the event's log id. */
export async function ingestAt(url: string, type = 'payment.failed'): Promise<string> {
  const rawBody = Buffer.from(JSON.stringify({ type, timestamp: new Date().toISOString(), data: { customer_id: 'cus_contract' } }));
  const headers = signDelivery('standard', rawBody, { secret: testSecrets.standard, nowMs: Date.now(), headers: { 'webhook-id': `msg_${randomUUID()}` } });
  const res = await fetch(`${url}/webhooks/standard`, { method: 'POST', headers, body: rawBody });
  const body = (await res.json()) as { id?: string };
  if (res.status !== 200 || typeof body.id !== 'string') throw new Error(`webhook refused: ${res.status} ${JSON.stringify(body)}`);
  return body.id;
}

/**
 * A TCP proxy in front of a relay whose `cut()` destroys every open connection at once:
 * to the client, the server dropped it mid-stream (or mid-poll, mid-tool-call). New
 * connections go through as before.
 */
export class CuttableProxy {
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async listen(): Promise<void> {
    const server = createServer((inbound) => {
      const outbound = connect(this.target.port, this.target.host);
      for (const socket of [inbound, outbound]) {
        this.#sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => {
          this.#sockets.delete(socket);
          inbound.destroy();
          outbound.destroy();
        });
      }
      inbound.pipe(outbound);
      outbound.pipe(inbound);
    });
    this.#server = server;
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    this.port = (server.address() as { port: number }).port;
  }

  /** Drops every connection open through the proxy; returns how many pairs there were. */
  cut(): number {
    const open = this.#sockets.size;
    for (const socket of [...this.#sockets]) socket.destroy();
    return Math.ceil(open / 2);
  }

  async close(): Promise<void> {
    this.cut();
    if (!this.#server) return;
    this.#server.close();
    await once(this.#server, 'close');
  }
}
