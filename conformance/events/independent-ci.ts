/**
 * CI: the Events conformance suite (`run.ts`) against the independent Events server of the
 * tests (`test/support/independent-events-server.ts`: written from the draft alone, with
 * random-token cursors and no relay code), in both protocol eras and with `--strict`. A
 * suite that passes both this server and the relay checks the draft, not the relay's habits.
 * Retention of 20 events makes a cursor go stale; a 6 s lifetime lets the suite see the
 * server end a stream; 4 streams per principal let it see -32013; plain-http callbacks let
 * its webhooks reach the suite's receiver on 127.0.0.1.
 *
 * Usage: `npx tsx conformance/events/independent-ci.ts [--only <scenarios>]`.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startIndependentEventsServer } from '../../test/support/independent-events-server.js';
import { ERAS } from './wire.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TOKEN = 'independent-server-token';

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { only: { type: 'string' } } });
  const server = await startIndependentEventsServer({ port: 0, token: TOKEN, heartbeatMs: 1000, maxStreams: 4, streamLifetimeMs: 6000, retention: 20, httpCallbacks: true });
  try {
    // A cursor whose next events retention dropped: the suite's stale cursor.
    const old = server.publish({ kind: 'setup' });
    const stale = server.cursorAfter(old.eventId)!;
    for (let i = 0; i < 25; i++) server.publish({ kind: 'setup' });
    const trigger = server.url.replace(/\/mcp$/, '/trigger');
    let failed = 0;
    for (const era of ERAS) {
      console.log(`\n=== Events conformance, ${era} wire, the independent server at ${server.url} ===`);
      const args = ['--import', 'tsx', 'conformance/events/run.ts', '--url', server.url, '--token', TOKEN, '--era', era, '--trigger', trigger, `--stale-cursor=${stale}`];
      args.push('--heartbeat-within', '5000', '--exhaust-streams', '8', '--stream-ends-within', '6000', '--strict', ...(values.only ? ['--only', values.only] : []));
      const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
      const [code] = (await once(child, 'exit')) as [number | null];
      if (code !== 0) failed++;
    }
    console.log(`\nEvents conformance against the independent server: ${failed === 0 ? 'OK' : `FAILED in ${failed} era(s)`}`);
    return failed === 0 ? 0 : 1;
  } finally {
    await server.close();
  }
}

process.exit(await main());
