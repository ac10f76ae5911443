import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/app.js';
import { sendSample } from '../../src/ingest/send-sample.js';
import { eventually, keys } from '../support/mcp-clients.js';
import { startObservedRelay } from '../support/observed-relay.js';
import { exited, runCli } from '../support/relay-process.js';
import { testSecrets } from '../support/relay.js';

async function cli(args: string[], env: Record<string, string> = {}) {
  const child = runCli(args, { RELAY_TOKEN: '', ...env });
  const [stdout, stderr, code] = await Promise.all([text(child.stdout!), text(child.stderr!), exited(child)]);
  return { code, stdout, stderr };
}

describe('mcp-event-relay status', () => {
  let relay: Relay;
  beforeAll(async () => {
    ({ relay } = await startObservedRelay({ RELAY_API_KEYS: `${keys.alice}:alice`, RELAY_DROP_DEADLINE_S: '1' }));
    await sendSample({ url: relay.url, source: 'stripe', sample: 'payment_failed', secret: testSecrets.stripe, nowMs: Date.now() });
    await eventually(async () => {
      const res = await fetch(`${relay.url}/status`, { headers: { authorization: `Bearer ${keys.alice}` } });
      return ((await res.json()) as { alert: unknown }).alert ? true : undefined;
    }, 'the drop alert');
  });
  afterAll(() => relay.close());

  it("prints the operator's report from the running relay: webhooks, processing, drop rate against its threshold, latency, actions, the alert", async () => {
    const { code, stdout } = await cli(['status', '--url', relay.url, '--since', '24h', '--api-key', keys.alice]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^mcp-event-relay status: last 24h /);
    expect(stdout).toMatch(/status +ALERT/);
    expect(stdout).toMatch(/webhooks received +1 \(1 accepted, 0 duplicate, 0 rejected\)/);
    expect(stdout).toMatch(/events processed +0 of 1 accepted, 1 dropped \(deadline 1 s\)/);
    expect(stdout).toMatch(/drop rate +100\.0 % \(threshold 0\.100 %\)/);
    // The shipped sample is dated 2023: beyond the largest latency bin, said so rather than a capped number.
    expect(stdout).toMatch(/delivery latency +p50 beyond the largest bin \(~35 d\), p95 beyond the largest bin \(~35 d\) \(1 samples\)/);
    expect(stdout).toMatch(/webhook delivery +0 delivered, 0 abandoned, 0 active \/ 0 suspended subscriptions; p99 —/);
    expect(stdout).toMatch(/processing latency +p99 — \(no samples\)/);
    expect(stdout).toMatch(/action success +no reaction ran/);
    expect(stdout).toMatch(/alert +raised .*: drop rate 100\.0 % > 0\.100 %; stripe payment\.failed ×1/);
  });

  it('prints the raw report with --json and takes the key from RELAY_TOKEN', async () => {
    const { code, stdout } = await cli(['status', '--url', relay.url, '--json', '--since', '15m'], { RELAY_TOKEN: keys.alice });
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ status: 'alert', windowS: 900, events: { accepted: 1, dropped: 1 } });
  });

  it('exits 1 with the relay answer when the key is refused', async () => {
    const { code, stderr } = await cli(['status', '--url', relay.url, '--api-key', 'not-a-key-0123456789']);
    expect(code).toBe(1);
    expect(stderr).toContain('answered 401');
  });

  it('exits 2 on a since it cannot ask for, before contacting the relay', async () => {
    const { code, stderr } = await cli(['status', '--url', 'http://127.0.0.1:9', '--since', '3w']);
    expect(code).toBe(2);
    expect(stderr).toContain('--since: since must be a duration');
  });

  it('exits 1 naming the address when no relay answers', async () => {
    const { code, stderr } = await cli(['status', '--url', 'http://127.0.0.1:9']);
    expect(code).toBe(1);
    expect(stderr).toContain('cannot reach http://127.0.0.1:9');
  });
});
