import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteEventLog } from '../../src/log/sqlite/event-log.js';
import { newEvent } from '../support/events.js';
import { runCli, serveRelay } from '../support/relay-process.js';

const dir = mkdtempSync(join(tmpdir(), 'relay-serve-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function run(args: string[], env: Record<string, string> = {}) {
  const child = runCli(args, env);
  children.push(child);
  return child;
}

async function serve(env: Record<string, string>) {
  const relay = await serveRelay(env);
  children.push(relay.child);
  return relay;
}

async function exitOf(child: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, stderr };
}

describe('mcp-event-relay serve', () => {
  it('creates the SQLite file on first start and reports the head on /healthz', async () => {
    const path = join(dir, 'nested', 'relay.db');
    const { child, url } = await serve({ RELAY_STORE: `sqlite:${path}` });
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok', store: 'sqlite', head: null });
    child.kill('SIGTERM');
    expect((await exitOf(child)).code).toBe(0);

    const log = new SqliteEventLog({ path });
    const { id } = await log.append(newEvent());
    await log.close();
    const again = await serve({ RELAY_STORE: `sqlite:${path}` });
    expect(await (await fetch(`${again.url}/healthz`)).json()).toEqual({ status: 'ok', store: 'sqlite', head: id });
    again.child.kill('SIGTERM');
    await exitOf(again.child);
  });

  it('serves from memory when told to', async () => {
    const { child, url } = await serve({ RELAY_STORE: 'memory' });
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok', store: 'memory', head: null });
    child.kill('SIGTERM');
    await exitOf(child);
  });

  it('exits with status 2 and one clear line on bad configuration', async () => {
    const { code, stderr } = await exitOf(run(['serve'], { PORT: 'eighty' }));
    expect(code).toBe(2);
    expect(stderr.trim()).toMatch(/^mcp-event-relay: invalid configuration: PORT="eighty": [^\n]+$/);
  });

  it('exits with status 2 and the usage for an unknown command', async () => {
    const { code, stderr } = await exitOf(run(['frobnicate']));
    expect(code).toBe(2);
    expect(stderr).toContain('unknown command "frobnicate"');
    expect(stderr).toContain('usage: mcp-event-relay');
  });
});
