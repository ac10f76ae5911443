import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/client/stdio';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Relay } from '../../src/app.js';
import { Inbox, eventually, ingest, keys, startMcpRelay, toolOutcome, type Received } from '../support/mcp-clients.js';

/**
 * README's "Connecting a desktop agent" bridge recipes, run as written: the `mcpServers`
 * entry a desktop host spawns and the `mcp-remote` shell command, each against a real relay
 * on loopback and driven over stdio by the SDK client a host would be. `npx -y
 * mcp-remote@<version>` is replaced by the project's own install of that version, so no test
 * reaches a registry; `mcp-remote` keeps its state in a temporary folder, and a browser it
 * might open is a script that records the attempt.
 */

const root = join(import.meta.dirname, '../..');
const README_URL = 'http://127.0.0.1:8787/mcp';
const pinned = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies;
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const bin = (name: string) => join(root, 'node_modules/.bin', name);

/** README's fenced blocks of one language. */
function readmeBlocks(lang: string): string[] {
  return [...readme.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1] ?? '');
}

/** How a host starts the bridge: a command, its arguments and the environment it adds. */
interface Recipe {
  command: string;
  args: string[];
  env: Record<string, string>;
}

/** README's `mcpServers` entry with `key` in place of `<key>`. */
function hostConfigRecipe(key: string): Recipe {
  const block = readmeBlocks('json').find((b) => b.includes('"mcpServers"'));
  const server = (JSON.parse(block ?? '{}') as { mcpServers: Record<string, Recipe> }).mcpServers['event-relay'];
  if (!server) throw new Error('README has no mcpServers entry "event-relay"');
  expect([server.command, ...server.args.slice(0, 2)]).toEqual(['npx', '-y', `mcp-remote@${pinned['mcp-remote']}`]);
  return { command: bin('mcp-remote'), args: server.args.slice(2), env: Object.fromEntries(Object.entries(server.env).map(([k, v]) => [k, v.replace('<key>', key)])) };
}

/** README's `mcp-remote` shell command, `extra` appended, run by `sh` with `RELAY_TOKEN` exported as the reader has it. */
function shellRecipe(key: string, extra = ''): Recipe {
  const npx = `npx -y mcp-remote@${pinned['mcp-remote']} `;
  const lines = readmeBlocks('sh')
    .flatMap((block) => block.split('\n'))
    .filter((line) => line.startsWith('npx -y mcp-remote@'));
  expect(lines).toHaveLength(1);
  const [line = ''] = lines;
  expect(line.startsWith(npx)).toBe(true);
  return { command: 'sh', args: ['-c', `exec ${bin('mcp-remote')} ${line.slice(npx.length)}${extra}`], env: { RELAY_TOKEN: key } };
}

let scratch: string;
let browserLog: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'mcp-remote-test-'));
  browserLog = join(scratch, 'browser-opened');
  await writeFile(join(scratch, 'browser'), `#!/bin/sh\necho "$@" >> '${browserLog}'\n`);
  await chmod(join(scratch, 'browser'), 0o755);
});
afterAll(async () => {
  expect(existsSync(browserLog)).toBe(false);
  await rm(scratch, { recursive: true, force: true });
});

interface Bridge {
  client: Client;
  notifications: Inbox<Received>;
  close(): Promise<void>;
}

/** Spawns `recipe` pointed at `relay` and connects the SDK stdio client to it, as a desktop host does. */
async function connectBridge(relay: Relay, recipe: Recipe, options: { events?: boolean } = {}): Promise<Bridge> {
  const configDir = await mkdtemp(join(scratch, 'config-'));
  const url = `${relay.url}/mcp`;
  const transport = new StdioClientTransport({
    command: recipe.command,
    args: recipe.args.map((arg) => arg.replaceAll(README_URL, url)),
    env: { ...getDefaultEnvironment(), ...recipe.env, MCP_REMOTE_CONFIG_DIR: configDir, BROWSER: join(scratch, 'browser') },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const client = new Client({ name: 'desktop-host', version: '1.0.0' }, { capabilities: options.events ? { experimental: { events: {} } } : {} });
  const notifications = new Inbox<Received>();
  client.fallbackNotificationHandler = async (n) => notifications.push({ method: n.method, params: n.params as Record<string, any> | undefined });
  try {
    await client.connect(transport);
  } catch (error) {
    throw new Error(`mcp-remote did not connect: ${(error as Error).message}\n${stderr}`);
  }
  return { client, notifications, close: () => client.close() };
}

async function callTool(bridge: Bridge, name: string, args: Record<string, unknown> = {}) {
  return toolOutcome(await bridge.client.callTool({ name, arguments: args }));
}

function request(bridge: Bridge, method: string, params: Record<string, unknown>, signal?: AbortSignal) {
  return bridge.client.request({ method, params } as never, z.looseObject({}), { timeout: 30_000, ...(signal ? { signal } : {}) }) as Promise<Record<string, any>>;
}

/**
 * Ingests events until the bridge passes `notifications/resources/updated` for `uri` on, and
 * returns their ids. One is enough when the bridge forwards `resources/subscribe`; with
 * `--protocol auto` it reopens its `subscriptions/listen` stream a moment after the subscribe,
 * and what is committed before that is not announced.
 */
async function ingestUntilUpdated(relay: Relay, bridge: Bridge, uri: string): Promise<string[]> {
  const ids: string[] = [];
  const updated = (items: Received[]) => items.some((n) => n.method === 'notifications/resources/updated' && n.params?.uri === uri);
  await eventually(async () => {
    ids.push(await ingest(relay));
    return bridge.notifications.until(updated, `resources/updated for ${uri}`, 500).catch(() => undefined);
  }, `notifications/resources/updated for ${uri} through the bridge`);
  return ids;
}

const recipes: { recipe: string; make: (key: string) => Recipe }[] = [
  { recipe: "a desktop host's mcpServers entry", make: hostConfigRecipe },
  { recipe: 'the shell command', make: (key) => shellRecipe(key) },
  { recipe: 'the shell command with --protocol auto (2026-07-28)', make: (key) => shellRecipe(key, ' --protocol auto') },
];

describe.each(recipes)('an agent through mcp-remote: $recipe', ({ make }) => {
  let relay: Relay;
  let bridge: Bridge | undefined;
  beforeEach(async () => {
    relay = await startMcpRelay();
  });
  afterEach(async () => {
    await bridge?.close();
    bridge = undefined;
    await relay.close();
  });

  it('lists the tools, leases an ingested event with check_pending_events and acknowledges it with ack_event', async () => {
    bridge = await connectBridge(relay, make(keys.alice));
    const { tools } = await bridge.client.listTools();
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['check_pending_events', 'ack_event', 'get_customer_context']));

    const id = await ingest(relay);
    const claimed = await callTool(bridge, 'check_pending_events');
    expect(claimed.isError).toBe(false);
    expect(claimed.body.events.map((e: { id: string; deliveryCount: number }) => [e.id, e.deliveryCount])).toEqual([[id, 1]]);
    expect(await callTool(bridge, 'ack_event', { eventId: id })).toEqual({ isError: false, body: { acknowledged: true, count: 1 } });
    expect((await callTool(bridge, 'check_pending_events')).body).toEqual({ events: [], remaining: 0 });
  });

  it("passes notifications/resources/updated on for the principal's subscribed events:// group, whose queue then holds the events", async () => {
    bridge = await connectBridge(relay, make(keys.alice));
    const { resourceTemplates } = await bridge.client.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate)).toEqual(expect.arrayContaining(['events://{+group}', 'customer://{customerId}/context']));

    await bridge.client.subscribeResource({ uri: 'events://alice' });
    const ids = await ingestUntilUpdated(relay, bridge, 'events://alice');
    const read = await bridge.client.readResource({ uri: 'events://alice' });
    expect(JSON.parse((read.contents[0] as { text: string }).text)).toMatchObject({ group: 'alice', pending: ids.length });
  });

  it('passes events/poll and the pushes of events/stream on for a client that declares the events capability', async () => {
    bridge = await connectBridge(relay, make(keys.alice), { events: true });
    const fresh = await request(bridge, 'events/poll', { name: 'cx_events', cursor: null });
    expect(fresh).toMatchObject({ events: [], cursor: expect.any(String) });

    const abort = new AbortController();
    const stream = request(bridge, 'events/stream', { name: 'cx_events', cursor: fresh.cursor }, abort.signal).catch(() => undefined);
    const id = await ingest(relay);
    await bridge.notifications.until((items) => items.some((n) => n.method === 'notifications/events/event' && n.params?.eventId === id), 'the pushed event');
    abort.abort();
    await stream;
  });
});

describe('mcp-remote with a key the relay does not know', () => {
  it('exits without connecting and without opening a browser, so the host shows the server as failed', async () => {
    const relay = await startMcpRelay();
    try {
      await expect(connectBridge(relay, hostConfigRecipe('not-a-key-of-this-relay'))).rejects.toThrow(/mcp-remote did not connect/);
      expect(existsSync(browserLog)).toBe(false);
    } finally {
      await relay.close();
    }
  });
});
