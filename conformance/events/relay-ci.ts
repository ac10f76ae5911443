/**
 * CI: the Events conformance suite (`run.ts`) against this relay, started from source, in both
 * protocol eras. The relay runs with the memory store, an API key (the suite sends it as a
 * bearer token), a 1 s heartbeat, a 6 s stream lifetime (so the suite sees the server end a
 * stream), a budget of 4 streams per principal (so it sees -32013), and callbacks to
 * loopback allowed (`RELAY_WEBHOOK_ALLOW`: the webhook scenarios' receiver is on 127.0.0.1).
 * Events are made through `relay-trigger.ts`: signed Standard Webhooks deliveries to the
 * relay's public webhook route. Advice checks fail the run here (`--strict`): the relay is held to them.
 *
 * Usage: `npx tsx conformance/events/relay-ci.ts [--only <scenarios>] [--era <one era>]`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startRelayFromSource, stopRelay } from '../relay-from-source.js';
import { newStandardSecret, startRelayTrigger } from './relay-trigger.js';
import { ERAS } from './wire.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DEADLINE_MS = 180_000;
/** A ULID from 2016 the relay never minted: a cursor it cannot serve from (reported as truncated). */
const STALE_CURSOR = '01ARZ3NDEKTSV4RRFFQ69G5FAV';
const LIFETIME_MS = 6000;

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { only: { type: 'string' }, era: { type: 'string' } } });
  const eras = values.era ? [values.era] : [...ERAS];
  const started = Date.now();
  const secret = newStandardSecret();
  const token = randomBytes(24).toString('base64url');
  const children = new Set<ChildProcess>();
  const deadline = setTimeout(() => {
    console.error(`conformance:events: no result after ${DEADLINE_MS / 1000} s, stopping`);
    for (const child of children) child.kill('SIGKILL');
    process.exit(1);
  }, DEADLINE_MS);

  const relay = await startRelayFromSource({
    RELAY_LOG_LEVEL: 'info',
    RELAY_API_KEYS: `${token}:conformance`,
    STANDARD_WEBHOOK_SECRET: secret,
    RELAY_HEARTBEAT: '1s',
    RELAY_STREAM_LIFETIME: `${LIFETIME_MS}ms`,
    RELAY_MAX_STREAMS_PER_PRINCIPAL: '4',
    RELAY_WEBHOOK_ALLOW: 'loopback',
  });
  children.add(relay.child);
  const failed: string[] = [];
  let trigger: Awaited<ReturnType<typeof startRelayTrigger>> | undefined;
  try {
    trigger = await startRelayTrigger(relay.url, secret);
    for (const era of eras) {
      const args = ['--import', 'tsx', 'conformance/events/run.ts', '--url', `${relay.url}/mcp`, '--token', token, '--era', era];
      args.push('--event', 'payment.failed', '--trigger', trigger.url, '--stale-cursor', STALE_CURSOR, '--heartbeat-within', '5000');
      args.push('--exhaust-streams', '8', '--stream-ends-within', String(LIFETIME_MS), '--strict');
      if (values.only) args.push('--only', values.only);
      console.log(`\n=== Events conformance, ${era} wire, relay from source at ${relay.url} ===`);
      const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
      children.add(child);
      const [code] = (await once(child, 'exit')) as [number | null];
      children.delete(child);
      if (code !== 0) failed.push(era);
    }
    if (relay.child.exitCode !== null || relay.child.signalCode !== null) failed.push(`the relay exited during the run:\n${relay.output.join('').slice(-3000)}`);
  } finally {
    await trigger?.close();
    await stopRelay(relay.child);
    clearTimeout(deadline);
  }
  console.log(`\nEvents conformance against the relay: ${failed.length === 0 ? 'OK' : `FAILED (${failed.join('; ')})`} — ${trigger?.sent() ?? 0} events triggered, ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return failed.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('conformance:events (relay):', error);
    process.exit(1);
  },
);
