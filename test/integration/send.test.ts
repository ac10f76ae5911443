import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/app.js';
import type { Event } from '../../src/events/event.js';
import { loadSample, sampleNames } from '../../src/ingest/samples.js';
import { sendSample } from '../../src/ingest/send-sample.js';
import { exited, runCli } from '../support/relay-process.js';
import { routeOfSample, secretEnv, startTestRelay, testSecrets } from '../support/relay.js';

async function cli(args: string[], env: Record<string, string> = {}) {
  const child = runCli(args, env);
  const [stdout, stderr, code] = await Promise.all([text(child.stdout!), text(child.stderr!), exited(child)]);
  return { code, stdout, stderr };
}

/** The relay's answer as `send` prints it. */
const ANSWER = /^200 \{"received":true,"id":"([0-9A-Z]{26})","duplicate":(true|false)\}\n$/;

function answered(stdout: string): { id: string; duplicate: boolean } {
  const match = ANSWER.exec(stdout);
  if (!match) throw new Error(`not an accepted answer: ${stdout}`);
  return { id: match[1]!, duplicate: match[2] === 'true' };
}

/** A command line `send` cannot run: exit 2 and one line on stderr that says why. */
function expectUsageError(result: { code: number | null; stdout: string; stderr: string }, why: string) {
  expect(result.code).toBe(2);
  expect(result.stdout).toBe('');
  expect(result.stderr).toBe(`mcp-event-relay: send: ${why} (see mcp-event-relay send --help)\n`);
}

describe('send', () => {
  let relay: Relay;
  let dir: string;
  beforeAll(async () => {
    relay = await startTestRelay();
    dir = mkdtempSync(join(tmpdir(), 'relay-send-'));
  });
  afterAll(() => relay.close());

  async function stored(id: string): Promise<Event> {
    const { events } = await relay.log.read({ after: null, limit: 10_000 });
    const event = events.find((e) => e.id === id);
    if (!event) throw new Error(`event ${id} is not in the log`);
    return event;
  }

  for (const sample of sampleNames) {
    const source = routeOfSample[sample];
    it(`sends ${sample} as a new event each time, dated now, and as shipped a duplicate the second time`, async () => {
      const send = (fresh: boolean, nowMs = Date.now()) => sendSample({ url: relay.url, source, sample, secret: testSecrets[source], nowMs, fresh });
      const nowMs = Date.now();
      const fresh = [await send(true, nowMs), await send(true)];
      for (const result of fresh) expect(result).toMatchObject({ provider: loadSample(sample).provider, status: 200, body: { received: true, duplicate: false } });
      const [a, b] = fresh.map((r) => (r.body as { id: string }).id);
      expect(a).not.toBe(b);
      const event = await stored(a!);
      if (sample !== 'github_issue') expect(Math.abs(Date.parse(event.occurredAt) - nowMs)).toBeLessThan(1000);
      const first = await send(false);
      expect(first).toMatchObject({ status: 200, body: { received: true } });
      expect(await send(false)).toEqual({ ...first, body: { ...(first.body as object), duplicate: true } });
    });
  }

  it('keeps one shipment when a fulfillment comes by fulfillments/create and in the order of orders/fulfilled', async () => {
    const parcel = { ...(loadSample('order_shipped').body as object), id: 4553551999001 };
    const order = { ...(loadSample('order_fulfilled').body as object), fulfillment_status: 'partial', fulfillments: [parcel] };
    const send = (sample: 'order_shipped' | 'order_fulfilled', body: object) =>
      sendSample({ url: relay.url, source: 'shopify', sample, secret: testSecrets.shopify, nowMs: Date.now(), fresh: true, payload: Buffer.from(JSON.stringify(body)) });
    const first = await send('order_shipped', parcel);
    expect(first.body).toMatchObject({ duplicate: false });
    expect(await send('order_fulfilled', order)).toEqual({ ...first, body: { ...(first.body as object), duplicate: true } });
  });

  it('prints the answer and exits 0, a new event on every run, with the secret from the environment', async () => {
    const runs = [await cli(['send', 'github', 'github_issue', '--url', relay.url], secretEnv), await cli(['send', 'github', 'github_issue', '--url', relay.url], secretEnv)];
    for (const run of runs) expect(run).toMatchObject({ code: 0, stderr: '' });
    const [a, b] = runs.map((r) => answered(r.stdout));
    expect([a!.duplicate, b!.duplicate]).toEqual([false, false]);
    expect(a!.id).not.toBe(b!.id);
  });

  it('resends the sample as shipped with --fixed: the second run is a duplicate of the first', async () => {
    const args = ['send', 'shopify', 'order_created', '--fixed', '--url', relay.url];
    const first = answered((await cli(args, secretEnv)).stdout);
    expect(answered((await cli(args, secretEnv)).stdout)).toEqual({ id: first.id, duplicate: true });
  });

  it('sends the bytes of --payload signed for the source, a duplicate when resent where the body carries the id', async () => {
    const body = { ...(loadSample('payment_failed').body as Record<string, unknown>), id: 'evt_payload_0001', created: Math.floor(Date.now() / 1000) };
    const file = join(dir, 'stripe.json');
    const bytes = `${JSON.stringify(body, null, 2)}\n`;
    writeFileSync(file, bytes);
    const args = ['send', 'stripe', 'payment_failed', '--payload', file, '--url', relay.url];
    const first = answered((await cli(args, secretEnv)).stdout);
    expect(first.duplicate).toBe(false);
    expect(await stored(first.id)).toMatchObject({ type: 'payment.failed', sourceEventId: 'evt_payload_0001', raw: body });
    expect(answered((await cli(args, secretEnv)).stdout)).toEqual({ id: first.id, duplicate: true });
  });

  it('gives a --payload the sample’s headers with new delivery ids, or the shipped ones with --fixed', async () => {
    const file = join(dir, 'order.json');
    writeFileSync(file, JSON.stringify({ ...(loadSample('order_created').body as Record<string, unknown>), id: 5600900000001, name: '#1042' }));
    const run = async (...extra: string[]) => answered((await cli(['send', 'shopify', 'order_created', '--payload', file, '--url', relay.url, ...extra], secretEnv)).stdout);
    const [a, b] = [await run(), await run()];
    expect(a.id).not.toBe(b.id);
    expect(await stored(a.id)).toMatchObject({ type: 'order.created', sourceType: 'orders/create', subject: 'order:5600900000001' });
    const fixed = await run('--fixed');
    expect(await run('--fixed')).toEqual({ id: fixed.id, duplicate: true });
  });

  it('takes a source not configured here as the relay names it, and exits 1 on its refusal', async () => {
    const result = await cli(['send', 'elsewhere', 'payment_failed', '--secret', 'whsec_x', '--url', relay.url]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^404 \{"error":"unknown_source"/);
  });

  it('exits 1 and prints the refusal when the relay refuses', async () => {
    const { code, stdout } = await cli(['send', 'stripe', 'refund', '--url', relay.url, '--secret', 'whsec_wrong']);
    expect(code).toBe(1);
    expect(stdout).toContain('401 {"error":"signature_mismatch"');
  });

  it('exits 1 with one line when nothing listens at --url', async () => {
    const server = createServer();
    const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
    await new Promise((resolve) => server.close(resolve));
    const result = await cli(['send', 'stripe', 'refund', '--url', `http://127.0.0.1:${port}`, '--secret', testSecrets.stripe]);
    expect(result).toEqual({ code: 1, stdout: '', stderr: `mcp-event-relay: cannot reach http://127.0.0.1:${port}: ECONNREFUSED\n` });
  });

  it('names the provider a sample belongs to when the source has another', async () => {
    expectUsageError(
      await cli(['send', 'stripe', 'order_shipped'], secretEnv),
      'order_shipped is a shopify sample, and stripe is a stripe source; send it to a shopify source, e.g. `send shopify order_shipped`',
    );
    expectUsageError(
      await cli(['send', 'acme', 'payment_failed'], { RELAY_SOURCES: 'billing:stripe,acme:standard', BILLING_WEBHOOK_SECRET: 'whsec_b', STRIPE_WEBHOOK_SECRET: '' }),
      'payment_failed is a stripe sample, and acme is a standard source; send it to a stripe source, e.g. `send billing payment_failed`',
    );
  });

  it.each([
    [['send', 'stripe', 'nope'], `unknown sample "nope"; samples: ${sampleNames.join(', ')}`],
    [['send', 'stripe'], 'send takes <source> <sample>'],
    [['send', 'stripe', 'refund', 'extra'], 'send takes <source> <sample>'],
    [['send', 'acme', 'standard'], 'no secret for "acme": pass --secret or set ACME_WEBHOOK_SECRET'],
    [['send', 'stripe', 'refund', '--payload', '/nonexistent/body.json', '--secret', 's'], 'cannot read --payload /nonexistent/body.json: ENOENT'],
    [['send', '--list', 'stripe'], '--list takes no other arguments'],
    [['send', 'stripe', 'refund', '--fixed=yes'], "Option '--fixed' does not take an argument"],
  ])('exits 2 with one line for %j', async (args, why) => {
    expectUsageError(await cli(args, { RELAY_SOURCES: 'acme:standard', STRIPE_WEBHOOK_SECRET: testSecrets.stripe }), why);
  });

  it('exits 2 with one line for an unknown flag', async () => {
    const result = await cli(['send', 'stripe', 'refund', '--bogus']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^mcp-event-relay: send: Unknown option '--bogus'.*\(see mcp-event-relay send --help\)\n$/);
  });

  it('documents every option in send --help', async () => {
    for (const flag of ['--help', '-h']) {
      const { code, stdout, stderr } = await cli(['send', flag]);
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
      expect(stdout).toMatch(/^usage: mcp-event-relay send <source> <sample> \[--fixed\] \[--payload FILE\] \[--url URL\] \[--secret S\]\n/);
      for (const option of ['--fixed', '--payload FILE', '--url URL', '--secret S', '--list', '-h, --help']) expect(stdout).toContain(`\n  ${option} `);
      expect(stdout).toContain(sampleNames.join(', '));
    }
  });

  it('lists the samples by provider with the type each is stored as and the sources configured for it', async () => {
    const { code, stdout } = await cli(['send', '--list'], { RELAY_SOURCES: 'billing:stripe' });
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    expect(lines[0]).toBe('samples by provider: send <source> <sample>');
    expect(lines).toContain('stripe (send to: stripe, billing)');
    expect(lines).toContain('shopify (send to: shopify)');
    for (const [name, sourceType, type] of [
      ['order_created', 'orders/create', 'order.created'],
      ['order_fulfilled', 'orders/fulfilled', 'order.shipped'],
      ['dispute_opened', 'charge.dispute.created', 'dispute.opened'],
      ['github_issue', 'issues.opened', '<source>.issues.opened'],
    ]) {
      expect(lines.filter((line) => line.startsWith(`  ${name} `)).map((line) => line.trim().split(/ +/))).toEqual([[name, sourceType, '→', type]]);
    }
    expect(lines.filter((line) => line.startsWith('  '))).toHaveLength(sampleNames.length);
  });
});
