import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/app.js';
import type { Event } from '../../src/events/event.js';
import { CuttableProxy } from '../contract/delivery-modes/relay-process.js';
import { Inbox, eventually, ingest, keys, startMcpRelay } from '../support/mcp-clients.js';

const cli = join(import.meta.dirname, '../../src/cli.ts');

/** `mcp-event-relay tail …` as a child process, its stdout and stderr as inboxes of lines. */
function tail(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, 'tail', ...args], {
    env: { ...process.env, RELAY_TOKEN: keys.alice, RELAY_CLIENT_MODE: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout = new Inbox<string>();
  const stderr = new Inbox<string>();
  createInterface({ input: child.stdout! }).on('line', (line) => stdout.push(line));
  createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
  const exit = once(child, 'exit').then(([code]) => {
    stdout.end();
    stderr.end();
    return code as number | null;
  });
  return { child, stdout, stderr, exit };
}

describe('mcp-event-relay tail', () => {
  let relay: Relay | undefined;
  const children: ChildProcess[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    for (const cleanup of cleanups.splice(0)) await cleanup();
    await relay?.close();
    relay = undefined;
  });
  const run = (args: string[], env: Record<string, string> = {}) => {
    const t = tail(args, env);
    children.push(t.child);
    return t;
  };
  const started = (t: ReturnType<typeof tail>) => t.stderr.until((lines) => lines.some((l) => l.startsWith('tail: ')), 'the start line');

  it('prints one readable line per matching event (time, type, subject, source, id), the negotiated mode on stderr, and stops on SIGINT', async () => {
    relay = await startMcpRelay();
    const t = run(['--url', relay.url, '--types', 'payment.failed']);
    await started(t);
    expect(t.stderr.items[0]).toBe(`tail: push mode on ${relay.url}/mcp (types: payment.failed)`);
    await ingest(relay, { type: 'ticket.created' });
    const first = await ingest(relay, { type: 'payment.failed', customerId: 'cus_tail' });
    const second = await ingest(relay, { type: 'payment.failed' });
    await t.stdout.until((lines) => lines.length >= 2, 'two event lines');
    const [event] = (await relay.log.read({ after: '0'.repeat(26), limit: 100 })).events.filter((e) => e.id === first);
    expect(t.stdout.items[0]).toBe(`${event!.receivedAt}  payment.failed  ${event!.subject ?? '-'}  standard  ${first}`);
    expect(t.stdout.items[1]).toMatch(new RegExp(`^\\S+Z  payment\\.failed  \\S+  standard  ${second}$`));
    t.child.kill('SIGINT');
    expect(await t.exit).toBe(0);
    expect(t.stdout.items).toHaveLength(2);
  });

  it('--json prints each event as one JSON object per line; --mode tools is used as given, acknowledging in --group', async () => {
    relay = await startMcpRelay();
    const t = run(['--url', relay.url, '--json', '--mode', 'tools', '--group', 'alice/tail']);
    await started(t);
    expect(t.stderr.items[0]).toBe(`tail: tools mode on ${relay.url}/mcp`);
    const ids = [await ingest(relay, { type: 'order.delayed' }), await ingest(relay, { type: 'payment.failed' })];
    await t.stdout.until((lines) => lines.length >= 2, 'two JSON lines');
    const events = t.stdout.items.map((line) => JSON.parse(line) as Event);
    expect(events.map((e) => e.id)).toEqual(ids);
    expect(events.map((e) => e.type)).toEqual(['order.delayed', 'payment.failed']);
    expect(events[0]).toMatchObject({ source: 'standard', customerId: 'cus_test' });
    await eventually(async () => ((await relay!.log.pending('alice/tail')).pending === 0 ? true : undefined), 'both acknowledged in alice/tail');
    expect((await relay.log.peek('alice')).map((e) => e.id)).toEqual(ids);
  });

  it('reports a dropped connection on stderr as it happens, reconnects, and goes on without loss', async () => {
    relay = await startMcpRelay();
    const target = new URL(relay.url);
    const proxy = new CuttableProxy({ host: target.hostname, port: Number(target.port) });
    await proxy.listen();
    cleanups.push(() => proxy.close());
    const t = run(['--url', proxy.url, '--mode', 'poll', '--json'], { RELAY_TOKEN: keys.bob });
    await started(t);
    expect(t.stderr.items[0]).toBe(`tail: poll mode on ${proxy.url}/mcp`);
    const ids = [await ingest(relay)];
    await t.stdout.until((lines) => lines.length >= 1, 'the first event');
    proxy.cut();
    await t.stderr.until((lines) => lines.some((l) => /^tail: connection lost \(.+\); reconnecting in \d+ ms \(attempt 1\)$/.test(l)), 'a reconnect line');
    ids.push(await ingest(relay));
    await t.stdout.until((lines) => lines.length >= 2, 'the event after the reconnect');
    expect(t.stdout.items.map((line) => (JSON.parse(line) as Event).id)).toEqual(ids);
  });

  it('exits with status 1 and one line when the relay refuses the token', async () => {
    relay = await startMcpRelay();
    const t = run(['--url', relay.url], { RELAY_TOKEN: 'not-a-key-of-this-relay' });
    expect(await t.exit).toBe(1);
    expect(t.stderr.items).toHaveLength(1);
    expect(t.stderr.items[0]).toMatch(/^mcp-event-relay: /);
  });

  it('exits with status 2 and the usage for an unknown --mode', async () => {
    const t = run(['--mode', 'carrier-pigeon']);
    expect(await t.exit).toBe(2);
    expect(t.stderr.items[0]).toBe('mcp-event-relay: --mode must be one of auto, push, poll, tools');
    expect(t.stderr.items.join('\n')).toContain('usage: mcp-event-relay');
  });
});
