import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createEventClient, type EventClient, fileCursorStore, modeFromEnv } from '../../client/index.js';
import type { Relay } from '../../src/app.js';
import { eventClientFor, recorder } from '../support/client-harness.js';
import { keys, startMcpRelay } from '../support/mcp-clients.js';

describe('choosing the delivery mode', () => {
  let relay: Relay | undefined;
  let client: EventClient | undefined;
  const saved = process.env.RELAY_CLIENT_MODE;
  afterEach(async () => {
    if (saved === undefined) delete process.env.RELAY_CLIENT_MODE;
    else process.env.RELAY_CLIENT_MODE = saved;
    await client?.close();
    await relay?.close();
  });

  it('auto picks push against a relay that advertises the Events capability, says so in sub.mode and logs it once', async () => {
    relay = await startMcpRelay();
    const lines: string[] = [];
    client = eventClientFor(relay, 'auto', { logger: { info: (line) => lines.push(line) } });
    const sub = await client.subscribe(recorder().options);
    expect(sub.mode).toBe('push');
    expect(lines).toEqual([expect.stringContaining('push mode')]);
  });

  it('takes the mode from RELAY_CLIENT_MODE when none is passed', async () => {
    relay = await startMcpRelay();
    process.env.RELAY_CLIENT_MODE = 'poll';
    client = createEventClient({ url: `${relay.url}/mcp`, token: keys.alice });
    expect((await client.subscribe(recorder().options)).mode).toBe('poll');
  });

  it('reads auto, the four names, and refuses anything else', () => {
    expect(modeFromEnv({})).toBe('auto');
    expect(modeFromEnv({ RELAY_CLIENT_MODE: ' Tools ' })).toBe('tools');
    expect(() => modeFromEnv({ RELAY_CLIENT_MODE: 'webhook' })).toThrow(/RELAY_CLIENT_MODE/);
  });

  it('refuses a sources filter or an event subscription in tools mode, which the tools cannot apply', async () => {
    relay = await startMcpRelay();
    client = eventClientFor(relay, 'tools');
    await expect(client.subscribe(recorder({ filter: { sources: ['stripe'] } }).options)).rejects.toMatchObject({ code: 'unsupported_filter' });
    await expect(client.subscribe(recorder({ event: { name: 'cx_events' } }).options)).rejects.toMatchObject({ code: 'unsupported_filter' });
  });

  it('rejects subscribe when the relay refuses the credentials', async () => {
    relay = await startMcpRelay();
    client = eventClientFor(relay, 'push', { token: 'not-a-valid-key-0123456789' });
    await expect(client.subscribe(recorder().options)).rejects.toThrow();
  });
});

describe('fileCursorStore', () => {
  let dir: string;
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('loads nothing before the first save, then the last cursor saved, leaving no temporary files', async () => {
    dir = await mkdtemp(join(tmpdir(), 'cursor-store-'));
    const path = join(dir, 'nested', 'cursor.json');
    const store = fileCursorStore(path);
    expect(await store.load()).toBeUndefined();
    await store.save('opaque-1');
    await store.save('b3BhcXVlLTI=');
    expect(await fileCursorStore(path).load()).toBe('b3BhcXVlLTI=');
    expect(await readdir(join(dir, 'nested'))).toEqual(['cursor.json']);
  });

  it('reads a file without a cursor as no cursor', async () => {
    dir = await mkdtemp(join(tmpdir(), 'cursor-store-'));
    const path = join(dir, 'cursor.json');
    await writeFile(path, '{}');
    expect(await fileCursorStore(path).load()).toBeUndefined();
  });
});

describe('option checks', () => {
  it('refuses a bad mode, URL or backoff factor when the client is created, and a bad attempts count when subscribing', async () => {
    expect(() => createEventClient({ url: 'not a url' })).toThrow(/createEventClient options/);
    expect(() => createEventClient({ url: 'http://127.0.0.1:1/mcp', mode: 'webhook' as never })).toThrow(/createEventClient options/);
    // Below 1 the bound would shrink: retries would speed up the longer the relay is down.
    expect(() => createEventClient({ url: 'http://127.0.0.1:1/mcp', reconnect: { factor: 0.5 } })).toThrow(/createEventClient options/);
    const client = createEventClient({ url: 'http://127.0.0.1:1/mcp', mode: 'poll' });
    await expect(client.subscribe({ onEvent: () => undefined, attempts: 0 })).rejects.toMatchObject({ code: 'invalid_options' });
    await expect(client.subscribe({ onEvent: () => undefined, filter: { types: ['a'] }, event: { name: 'a' } })).rejects.toMatchObject({ code: 'invalid_options' });
  });
});
