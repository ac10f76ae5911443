import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { text } from 'node:stream/consumers';
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/app.js';
import { type Agent, connectModernAgent, eventually, keys, toolOutcome } from '../support/mcp-clients.js';
import { exited, logRecord } from '../support/relay-process.js';
import { testSecrets } from '../support/relay.js';

const root = join(import.meta.dirname, '../..');
const GROUP = 'bob/agent';

/**
 * The operator's acceptance journey, as the README tells it: `npm start` (which builds `dist/`
 * first, most of this test's time), then only the installed command, `dist/src/cli.js`, the
 * `mcp-event-relay` bin: send an event, find it, watch it dead-letter for a real consumer (an
 * MCP client that claims with `check_pending_events` and never acks), find it with its error,
 * requeue it, and seek the group back an hour; each time the consumer receives it again.
 */
describe('an operator works a dead letter through the CLI', { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'operator-journey-'));
  let relay: ChildProcess;
  let url: string;
  let consumer: Agent<Client>;

  beforeAll(async () => {
    // Its own process group, so stopping npm stops the relay it started too.
    relay = spawn('npm', ['start', '--', '--port', '0'], {
      cwd: root,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        RELAY_STORE: `sqlite:${join(dir, 'relay.db')}`,
        RELAY_API_KEYS: `${keys.alice}:alice,${keys.bob}:bob`,
        RELAY_ADMIN_PRINCIPALS: 'alice',
        RELAY_MAX_DELIVERIES: '1',
        RELAY_LEASE: '1s',
        STANDARD_WEBHOOK_SECRET: testSecrets.standard,
      },
    });
    const output: string[] = [];
    createInterface({ input: relay.stderr! }).on('line', (line) => output.push(line));
    url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: relay.stdout! }).on('line', (line) => {
        const record = logRecord(line);
        if (typeof record?.url === 'string') resolve(record.url);
        else output.push(line);
      });
      relay.once('exit', (code) => reject(new Error(`npm start exited with ${code} before listening:\n${output.slice(-30).join('\n')}`)));
    });
    consumer = await connectModernAgent({ url } as Relay, { key: keys.bob, events: false });
  }, 180_000);

  afterAll(async () => {
    await consumer?.close();
    if (relay?.pid !== undefined && relay.exitCode === null) {
      process.kill(-relay.pid, 'SIGTERM');
      await exited(relay);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  /** The installed command against the relay, as alice (the admin); times print in UTC. */
  const cli = async (args: string[]) => {
    const child = spawn(process.execPath, [join(root, 'dist/src/cli.js'), ...args, '--url', url], {
      env: { ...process.env, RELAY_TOKEN: keys.alice, STANDARD_WEBHOOK_SECRET: testSecrets.standard, TZ: 'UTC' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const [stdout, stderr, code] = await Promise.all([text(child.stdout!), text(child.stderr!), exited(child)]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    return stdout;
  };
  const rows = (stdout: string) => stdout.trimEnd().split('\n').map((line) => line.split(/ {2,}/));
  type Claimed = { id: string; deliveryCount: number; leaseExpiresAt: number };
  /** The consumer's turn: lease what is pending in its group for a second. */
  const claim = async (): Promise<Claimed[]> => {
    const result = await consumer.client.callTool({ name: 'check_pending_events', arguments: { group: GROUP, types: ['standard.*'], leaseMs: 1000 } });
    return toolOutcome(result).body.events as Claimed[];
  };
  const ack = async (event: Claimed) => {
    const result = await consumer.client.callTool({ name: 'ack_event', arguments: { group: GROUP, eventId: event.id, deliveryCount: event.deliveryCount } });
    expect(toolOutcome(result)).toMatchObject({ isError: false, body: { acknowledged: true } });
  };

  it('send, find, dead-letter, dlq list, dlq requeue, groups seek --to 1h: the consumer receives the event each time', async () => {
    expect(await claim()).toEqual([]);
    const sent = await cli(['send', 'standard', 'standard']);
    const id = (JSON.parse(sent.slice(sent.indexOf('{'))) as { id: string }).id;
    expect(rows(await cli(['events', 'list', '--types', 'standard.*']))).toContainEqual([expect.any(String), 'standard.invoice.paid', 'customer:cus_vecTEST0001', 'standard', id]);

    const [first] = await claim();
    expect(first).toMatchObject({ id, deliveryCount: 1 });
    // Never acknowledged: once its lease ran out the next claim dead-letters it (RELAY_MAX_DELIVERIES=1).
    await eventually(async () => (Date.now() > first!.leaseExpiresAt && (await claim()).length === 0 ? true : undefined), 'the lease to run out');
    const [header, letter] = rows(await cli(['dlq', 'list', GROUP]));
    expect(header).toEqual(['ID', 'TYPE', 'DELIVERIES', 'DEAD-LETTERED', 'ERROR']);
    expect(letter).toEqual([id, 'standard.invoice.paid', '1', expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/), 'lease expired after 1 delivery']);
    expect(rows((await cli(['events', 'get', id])).split('\n\n')[1]!)).toContainEqual([GROUP, 'dead', '1', '-', letter![3]]);

    expect(await cli(['dlq', 'requeue', GROUP, '--ids', id])).toBe(`requeued 1 dead letter of ${GROUP}\n  ${id}\n`);
    const requeued = await claim();
    expect(requeued).toMatchObject([{ id, deliveryCount: 1 }]);
    await ack(requeued[0]!);
    expect(await claim()).toEqual([]);

    const sought = await cli(['groups', 'seek', GROUP, '--to', '1h']);
    expect(sought).toMatch(/^moved bob\/agent to 1h \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\)\n/);
    const again = await claim();
    expect(again).toMatchObject([{ id, deliveryCount: 1 }]);
    await ack(again[0]!);

    const audit = JSON.parse(await cli(['events', 'list', '--types', 'relay.admin', '--json'])) as { events: { data: { principal: string; action: string } }[] };
    expect(audit.events.map((e) => `${e.data.principal} ${e.data.action}`)).toEqual(['alice dead_letters.requeue', 'alice group.seek']);
  });
});
