import { randomUUID } from 'node:crypto';
import { signDelivery } from '../src/ingest/sign.js';
import { startNodeFlags } from './ingest-runner.js';
import { killServers, type ServerProcess, startServer } from './server-process.js';

export { buildRelay } from './ingest-runner.js';

/**
 * The relay the `modes` benchmark talks to, run as `npm start` runs it (the compiled
 * JavaScript, which {@link buildRelay} makes first, with the start script's node flags), so a
 * restart takes as long as a real one: in a child process with the memory store (unless
 * `extraEnv` names another), one bearer key, and only the Standard Webhooks secret the
 * benchmark signs with. Nothing from the caller's `RELAY_*` / `*_WEBHOOK_SECRET` / `HOST` /
 * `PORT` reaches it.
 */

export const BENCH_KEY = 'bench-modes-key-0123456789';
export const BENCH_PRINCIPAL = 'bench';
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

export type RelayChild = ServerProcess;

/** Kills every relay child still running; for Ctrl-C and process exit. */
export const killRelayChildren = killServers;

/** `port`: start again where the agents expect it (after a stop or kill). */
export function startRelayChild(extraEnv: Record<string, string> = {}, port?: number): Promise<RelayChild> {
  return startServer({
    name: 'relay',
    port,
    args: [...startNodeFlags(), 'dist/src/cli.js', 'serve'],
    env: {
      RELAY_STORE: 'memory',
      RELAY_LOG_LEVEL: 'warn',
      // Agents count exactly the events posted; the reactions would append derived ones.
      RELAY_REACTIONS: 'off',
      RELAY_API_KEYS: `${BENCH_KEY}:${BENCH_PRINCIPAL}`,
      STANDARD_WEBHOOK_SECRET: SECRET,
      ...extraEnv,
    },
  });
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
