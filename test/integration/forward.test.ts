import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/app.js';
import { CallbackReceiver, newSecret } from '../support/callback-receiver.js';
import { Inbox, ingest, keys, startMcpRelay } from '../support/mcp-clients.js';
import { exited, runCli } from '../support/relay-process.js';

/** `mcp-event-relay forward …` as a child process, its stdout and stderr as inboxes of lines. */
function forward(args: string[]) {
  const child = runCli(['forward', ...args], { RELAY_TOKEN: keys.alice });
  const stdout = new Inbox<string>();
  const stderr = new Inbox<string>();
  createInterface({ input: child.stdout! }).on('line', (line) => stdout.push(line));
  createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
  const exit = exited(child).then((code) => {
    stdout.end();
    stderr.end();
    return code;
  });
  return { child, stdout, stderr, exit };
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** One delivery line: local time, type, id, the answer and its latency, then what comes next. */
const line = (type: string, id: string, answer: string, next = '') => new RegExp(`^\\d{2}:\\d{2}:\\d{2}  ${type.replace('.', '\\.')}  ${id}  → ${answer} \\(\\d+ ms\\)${next}$`);

describe('mcp-event-relay forward', () => {
  let relay: Relay | undefined;
  let receiver: CallbackReceiver | undefined;
  const children: ChildProcess[] = [];
  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    await receiver?.stop();
    await relay?.close();
    relay = undefined;
    receiver = undefined;
  });
  const run = (args: string[]) => {
    const f = forward(args);
    children.push(f.child);
    return f;
  };
  const ready = (f: ReturnType<typeof forward>) => f.stderr.until((lines) => lines.some((l) => l.startsWith('forward: http')), 'the ready line');

  it('posts the matching events in log order, signed with the secret it printed, one line each; stops on SIGINT with the --from to resume', async () => {
    relay = await startMcpRelay();
    receiver = await new CallbackReceiver().start();
    const f = run(['--to', receiver.url, '--url', relay.url, '--types', 'payment.*,order.shipped']);
    await ready(f);
    const printed = /^forward: signing secret (whsec_[A-Za-z0-9+/]{43}=) \(configure your receiver with it\)$/.exec(f.stderr.items[0]!);
    expect(printed).not.toBeNull();
    expect(Buffer.from(printed![1]!.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(f.stderr.items[1]).toBe(`forward: ${relay.url}/mcp → ${receiver.url} (types: payment.*, order.shipped)`);
    receiver.secrets = [printed![1]!];

    const ids = [await ingest(relay, { type: 'payment.failed' }), await ingest(relay, { type: 'order.shipped' })];
    await ingest(relay, { type: 'ticket.created' });
    ids.push(await ingest(relay, { type: 'payment.succeeded' }));
    await receiver.deliveries.until(() => receiver!.accepted().length === 3, 'three deliveries');
    expect(receiver.accepted()).toEqual(ids);
    expect(receiver.unverified).toEqual([]);
    const first = receiver.deliveries.items[0]!;
    expect(first).toMatchObject({ webhookId: ids[0], subscriptionId: 'forward', status: 200 });
    expect(first.body).toMatchObject({ eventId: ids[0], name: 'cx_events', cursor: ids[0], data: { id: ids[0], type: 'payment.failed' } });
    const [stored] = (await relay.log.read({ after: '0'.repeat(26), limit: 1 })).events;
    expect(first.body.timestamp).toBe(stored!.occurredAt);

    await f.stdout.until((lines) => lines.length === 3, 'three lines');
    expect(f.stdout.items[0]).toMatch(line('payment.failed', ids[0]!, '200'));
    expect(f.stdout.items[1]).toMatch(line('order.shipped', ids[1]!, '200'));
    expect(f.stdout.items[2]).toMatch(line('payment.succeeded', ids[2]!, '200'));
    f.child.kill('SIGINT');
    expect(await f.exit).toBe(0);
    expect(f.stderr.items.at(-1)).toMatch(/^forward: stopped; resume with --from [0-9A-Z]{26}$/);
  });

  it('retries an event its receiver answered 500, with the secret given, then goes on', async () => {
    relay = await startMcpRelay();
    receiver = await new CallbackReceiver(newSecret()).start();
    let failures = 1;
    receiver.script = () => (failures-- > 0 ? 500 : 200);
    const f = run(['--to', receiver.url, '--url', relay.url, '--secret', receiver.secret]);
    await ready(f);
    expect(f.stderr.items[0]).toBe(`forward: signing secret ${receiver.secret} (configure your receiver with it)`);
    const ids = [await ingest(relay), await ingest(relay)];
    await receiver.deliveries.until(() => receiver!.accepted().length === 2, 'both events');
    expect(receiver.deliveries.items.map((d) => [d.webhookId, d.status])).toEqual([[ids[0], 500], [ids[0], 200], [ids[1], 200]]);
    await f.stdout.until((lines) => lines.length === 3, 'three lines');
    expect(f.stdout.items[0]).toMatch(line('payment.failed', ids[0]!, '500', ', retrying'));
    expect(f.stdout.items[1]).toMatch(line('payment.failed', ids[0]!, '200'));
  });

  it('gives an event up after 4 attempts, reports it and goes on', async () => {
    relay = await startMcpRelay();
    receiver = await new CallbackReceiver().start();
    const f = run(['--to', receiver.url, '--url', relay.url, '--secret', receiver.secret]);
    await ready(f);
    const doomed = await ingest(relay);
    receiver.script = ({ webhookId }) => (webhookId === doomed ? 503 : 200);
    const next = await ingest(relay);
    await receiver.deliveries.until(() => receiver!.accepted().includes(next), 'the event after the given-up one');
    expect(receiver.deliveries.items.filter((d) => d.webhookId === doomed)).toHaveLength(4);
    await f.stdout.until((lines) => lines.length === 5, 'five lines');
    expect(f.stdout.items.slice(0, 3).every((l) => line('payment.failed', doomed, '503', ', retrying').test(l))).toBe(true);
    expect(f.stdout.items[3]).toMatch(line('payment.failed', doomed, '503', ', gave up after 4 attempts'));
    expect(f.stdout.items[4]).toMatch(line('payment.failed', next, '200'));
  });

  it('leaves an event it could not deliver unacknowledged when stopped, so --from resumes with it', async () => {
    relay = await startMcpRelay();
    const before = await ingest(relay);
    const port = await closedPort();
    const down = run(['--to', `http://127.0.0.1:${port}/hook`, '--url', relay.url]);
    await ready(down);
    const pending = await ingest(relay);
    await down.stdout.until((lines) => lines.length >= 1, 'a failed attempt');
    expect(down.stdout.items[0]).toMatch(line('payment.failed', pending, 'connection_refused', ', retrying'));
    down.child.kill('SIGINT');
    expect(await down.exit).toBe(0);
    expect(down.stderr.items.at(-1)).toBe(`forward: stopped; resume with --from ${before}`);

    receiver = await new CallbackReceiver().start();
    const up = run(['--to', receiver.url, '--url', relay.url, '--secret', receiver.secret, '--from', before]);
    await receiver.deliveries.until(() => receiver!.accepted().length === 1, 'the pending event');
    expect(receiver.accepted()).toEqual([pending]);
    await up.stdout.until((lines) => lines.length === 1, 'its line');
    expect(up.stdout.items[0]).toMatch(line('payment.failed', pending, '200'));
  });

  it('documents every option in --help', async () => {
    const f = run(['--help']);
    expect(await f.exit).toBe(0);
    const help = f.stdout.items.join('\n');
    for (const option of ['--to', '--types', '--sources', '--from', '--url', '--token', '--secret', 'x-mcp-subscription-id: forward', '4 attempts in all', 'up to 1 s, 2 s, 4 s']) expect(help).toContain(option);
  });

  it('exits 2 with one line for flags it cannot use', async () => {
    const cases: [string[], string][] = [
      [[], '--to is required'],
      [['--to', 'ftp://127.0.0.1/hook'], '--to: the callback URL must be http or https'],
      [['--to', 'not a url'], '--to: the callback URL is not an absolute URL'],
      [['--to', 'http://127.0.0.1:9/hook', '--secret', 'plain'], '--secret must be whsec_<base64>'],
      [['--to', 'http://127.0.0.1:9/hook', '--from', ''], '--from needs the event id'],
      [['--to', 'http://127.0.0.1:9/hook', '--frobnicate'], "Unknown option '--frobnicate'"],
      [['--to', 'http://127.0.0.1:9/hook', 'extra'], 'forward takes no positional arguments'],
    ];
    await Promise.all(
      cases.map(async ([args, message]) => {
        const f = run(args);
        expect(await f.exit).toBe(2);
        expect(f.stdout.items).toEqual([]);
        expect(f.stderr.items).toHaveLength(1);
        expect(f.stderr.items[0]).toMatch(/^mcp-event-relay: forward: .+ \(see mcp-event-relay forward --help\)$/);
        expect(f.stderr.items[0]).toContain(message);
      }),
    );
  });
});
