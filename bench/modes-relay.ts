import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { signDelivery } from '../src/ingest/sign.js';

/**
 * The relay the `modes` benchmark talks to: `node --import tsx src/cli.ts serve` in a child
 * process with the memory store, one bearer key, and only the Standard Webhooks secret the
 * benchmark signs with. Nothing from the caller's `RELAY_*` / `*_WEBHOOK_SECRET` / `HOST` /
 * `PORT` reaches it.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HOST = '127.0.0.1';
export const BENCH_KEY = 'bench-modes-key-0123456789';
export const BENCH_PRINCIPAL = 'bench';
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

export interface RelayChild {
  /** `http://127.0.0.1:<port>` */
  url: string;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();

/** Kills every relay child still running; for Ctrl-C and process exit. */
export function killRelayChildren(): void {
  for (const child of live) child.kill('SIGKILL');
}

export async function startRelayChild(extraEnv: Record<string, string> = {}): Promise<RelayChild> {
  const port = await freePort();
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || key.startsWith('RELAY_') || key.endsWith('_WEBHOOK_SECRET') || key === 'HOST' || key === 'PORT') continue;
    env[key] = value;
  }
  Object.assign(env, {
    RELAY_STORE: 'memory',
    RELAY_LOG_LEVEL: 'warn',
    RELAY_API_KEYS: `${BENCH_KEY}:${BENCH_PRINCIPAL}`,
    STANDARD_WEBHOOK_SECRET: SECRET,
    ...extraEnv,
    HOST,
    PORT: String(port),
  });
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => live.delete(child));
  const url = `http://${HOST}:${port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const killed = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(killed);
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`relay exited before listening (${child.exitCode ?? child.signalCode}):\n${output}`);
    try {
      const response = await fetch(`${url}/healthz`);
      await response.arrayBuffer();
      if (response.ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`relay did not answer on ${url} within 30 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { url, stop };
}

/** One signed Standard Webhooks delivery; resolves with the log id and the moment the 2xx arrived. */
export async function postWebhook(url: string, type: string): Promise<{ id: string; acceptedAt: number }> {
  const rawBody = Buffer.from(JSON.stringify({ type, timestamp: new Date().toISOString(), data: { customer_id: 'cus_bench', note: 'modes benchmark' } }));
  const headers = signDelivery('standard', rawBody, { secret: SECRET, nowMs: Date.now(), headers: { 'webhook-id': `msg_${randomUUID()}` } });
  const response = await fetch(`${url}/webhooks/standard`, { method: 'POST', headers, body: rawBody });
  // The status line and headers are in: this is the moment the provider sees its 2xx.
  const acceptedAt = performance.now();
  const body = (await response.json()) as { id?: unknown };
  if (response.status !== 200 || typeof body.id !== 'string') throw new Error(`webhook refused: ${response.status} ${JSON.stringify(body)}`);
  return { id: body.id, acceptedAt };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, HOST, () => {
      const address = probe.address();
      const port = address !== null && typeof address === 'object' ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
