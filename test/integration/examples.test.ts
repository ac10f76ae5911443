import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/app.js';
import { sendSample } from '../../src/ingest/send-sample.js';
import { Inbox, ingest, keys, startMcpRelay } from '../support/mcp-clients.js';
import { testSecrets } from '../support/relay.js';

const example = join(import.meta.dirname, '../../examples/payment-failed-agent.ts');

/** Runs the example as a user would, with only `--mode` chosen by the test. */
function runExample(relay: Relay, mode: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', example, '--mode', mode, '--max-events', '2'], {
    env: { ...process.env, RELAY_URL: `${relay.url}/mcp`, RELAY_TOKEN: keys.alice, RELAY_CLIENT_MODE: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines = new Inbox<string>();
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: child.stdout! }).on('line', (line) => lines.push(line));
  const exit = once(child, 'exit').then(([code]) => {
    lines.end();
    return code as number | null;
  });
  return { child, lines, exit, stderr: () => stderr };
}

describe.each(['push', 'tools'])('examples/payment-failed-agent.ts --mode %s', (mode) => {
  let relay: Relay | undefined;
  afterEach(async () => {
    await relay?.close();
    relay = undefined;
  });

  it('reacts to each signed payment_failed webhook once, ignores other events, and exits after --max-events', async () => {
    relay = await startMcpRelay();
    const agent = runExample(relay, mode);
    try {
      await agent.lines.until((lines) => lines.length >= 1, 'the listening line');
      expect(agent.lines.items[0]).toBe(`payment-failed-agent: listening for payment.failed in ${mode} mode`);
      const sent = await sendSample({ url: relay.url, source: 'stripe', sample: 'payment_failed', secret: testSecrets.stripe, nowMs: Date.now() });
      expect(sent.status).toBe(200);
      const stripeId = (sent.body as { id: string }).id;
      await ingest(relay, { type: 'ticket.created' });
      const standardId = await ingest(relay, { type: 'payment.failed', customerId: 'cus_example' });
      expect(await agent.exit).toBe(0);
      expect(agent.lines.items.slice(1)).toEqual([
        expect.stringMatching(new RegExp(`^reacted to payment\\.failed ${stripeId}: notify \\S+ about a failed payment`)),
        `reacted to payment.failed ${standardId}: notify cus_example about a failed payment`,
      ]);
      expect(agent.stderr()).toBe('');
    } finally {
      if (agent.child.exitCode === null) agent.child.kill('SIGKILL');
    }
  });
});
