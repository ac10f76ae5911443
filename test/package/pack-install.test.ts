import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/mcp-clients.js';
import { skipRedis, startRedisServer } from '../support/redis-server.js';
import { exited, listening } from '../support/relay-process.js';
import { testSecrets } from '../support/relay.js';

const root = join(import.meta.dirname, '../..');
const run = promisify(execFile);

/** Runs npm in `cwd`; rejects, with its output, when it fails. */
function npm(args: string[], cwd: string): Promise<{ stdout: string; stderr: string }> {
  return run('npm', args, { cwd, maxBuffer: 64 * 1024 * 1024 });
}

/** Every file under `dir`, as paths relative to it. */
function filesUnder(dir: string): string[] {
  const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());
  return files.map((entry) => relative(dir, join(entry.parentPath, entry.name)));
}

/** Every file under `dir` with its modification time. */
function mtimes(dir: string): Map<string, number> {
  return new Map(filesUnder(dir).map((path) => [path, statSync(join(dir, path)).mtimeMs]));
}

/**
 * `npm start` builds first (`prestart`), incrementally: with `dist/` current its build step
 * writes nothing. Here, before this file packs, so no build of this file runs in between.
 */
describe("npm start's build step", () => {
  it('rebuilds nothing when dist/ is current: a second run leaves every file in dist/ as it was', async () => {
    await npm(['run', 'prestart'], root);
    const before = mtimes(join(root, 'dist'));
    await npm(['run', 'prestart'], root);
    const after = mtimes(join(root, 'dist'));
    expect([...after].filter(([path, mtime]) => before.get(path) !== mtime)).toEqual([]);
    expect(after.size).toBe(before.size);
  }, 180_000);
});

/** Prints the runtime exports of both entry points, as a user's module imports them. */
const IMPORTS = `
const api = await import('mcp-event-relay');
const client = await import('mcp-event-relay/client');
console.log(JSON.stringify({ api: Object.keys(api).sort(), client: Object.keys(client).sort() }));
`;

/**
 * A user's TypeScript against the shipped declarations. Each `@ts-expect-error` fails the
 * check when the type it names resolves to `any` (an unused directive is an error).
 */
const CONSUMER_TS = `
import { type Event, type EventFilter, type EventLog, type NewEvent, type ReactionHandler, type RelayConfig, createLogger, loadConfig, MemoryEventLog, startRelay } from 'mcp-event-relay';
import { createEventClient, type EventClient } from 'mcp-event-relay/client';

export const handler: ReactionHandler = {
  name: 'acme/refund-notes',
  on: 'refund.*',
  async handle(event: Event, ctx) {
    await ctx.emit('refund.noted', { cause: event.id });
  },
};
// @ts-expect-error a handler needs a name
export const nameless: ReactionHandler = { on: 'refund.*', handle() {} };

const input: NewEvent = { source: 'acme', type: 'payment.failed', sourceType: 'failed', sourceEventId: 'e1', data: {}, raw: {} };
const filter: EventFilter = { types: ['payment.*'] };

export async function demo(): Promise<number> {
  const log: EventLog = new MemoryEventLog();
  await log.append(input);
  const config: RelayConfig = loadConfig({ RELAY_STORE: 'memory' });
  const relay = await startRelay(config, createLogger('silent'));
  await relay.close();
  // @ts-expect-error read takes options
  await log.read('everything');
  return (await log.read({ after: null, filter })).events.length;
}

export const client: EventClient = createEventClient({ url: 'http://127.0.0.1:8787/mcp' });
`;

const API = ['ConfigError', 'LOG_START', 'LogError', 'MemoryError', 'MemoryEventLog', 'RedisEventLog', 'SqliteEventLog', 'createLogger', 'loadConfig', 'startRelay'];
const CLIENT = ['EventClientError', 'createEventClient', 'createWebhookReceiver', 'fileCursorStore', 'memoryCursorStore', 'modeFromEnv'];

/**
 * The package as a user gets it: `npm pack` (which builds through `prepare`), the tarball
 * installed into an empty project, both entry points imported and typechecked, the installed
 * command run, its relay started. Dependencies come from npm's cache (the registry when one
 * is missing). `--ignore-scripts`: better-sqlite3's install script would compile its addon
 * where no prebuilt binary can be downloaded, minutes on two cores; this package has no
 * install script of its own, and the relays here use the memory store and Redis, which never
 * load that addon.
 */
describe('the packed package, installed into an empty project', { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'relay-pack-'));
  const project = join(dir, 'project');
  const bin = join(project, 'node_modules', '.bin', 'mcp-event-relay');
  let packed: string[] = [];
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    const { stdout } = await npm(['pack', '--json', '--pack-destination', dir], root);
    const [tarball] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
    packed = tarball!.files.map((file) => file.path);
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    await npm(['install', join(dir, tarball!.filename), '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts'], project);
  }, 180_000);

  afterAll(async () => {
    for (const child of children) child.kill();
    await Promise.all(children.map(exited));
    rmSync(dir, { recursive: true, force: true });
  });

  /** Starts the installed `serve` on a free port with `env`. */
  async function serveInstalled(env: Record<string, string>) {
    const child = spawn(bin, ['serve', '--port', '0'], { cwd: project, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    return listening(child);
  }

  it('ships the compiled code with its Lua scripts beside it, and no Lua from src/', () => {
    expect(packed).toEqual(expect.arrayContaining(['dist/src/index.js', 'dist/src/index.d.ts', 'dist/client/index.js', 'dist/src/cli.js']));
    const shipped = packed.filter((path) => path.endsWith('.lua')).sort();
    const lua = filesUnder(join(root, 'src')).filter((path) => path.endsWith('.lua')).map((path) => `dist/src/${path}`).sort();
    expect(lua.length).toBeGreaterThan(0);
    expect(shipped).toEqual(lua);
  });

  it('imports both entry points: named exports only', async () => {
    writeFileSync(join(project, 'imports.mjs'), IMPORTS);
    const { stdout } = await run(process.execPath, ['imports.mjs'], { cwd: project });
    expect(JSON.parse(stdout)).toEqual({ api: API, client: CLIENT });
  });

  it("typechecks a user's module against the shipped declarations", async () => {
    writeFileSync(join(project, 'consumer.ts'), CONSUMER_TS);
    const compilerOptions = { module: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: true, typeRoots: [join(root, 'node_modules', '@types')], types: ['node'] };
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['consumer.ts'] }));
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const checked = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: project }).catch((error: { stdout: string }) => error);
    expect(checked.stdout).toBe('');
  });

  it('runs the installed command', async () => {
    const { stdout } = await run(bin, ['--help'], { cwd: project });
    expect(stdout).toMatch(/^usage: mcp-event-relay <command>/);
  });

  it('starts the installed relay: /healthz answers 200', async () => {
    const relay = await serveInstalled({ RELAY_STORE: 'memory' });
    const health = await fetch(`${relay.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', store: 'memory' });
  });

  it.skipIf(skipRedis)('runs the installed relay on Redis: the shipped Lua scripts commit a sent webhook and run its reaction', async () => {
    const redis = await startRedisServer();
    const env = { RELAY_STORE: redis.url, STRIPE_WEBHOOK_SECRET: testSecrets.stripe };
    const relay = await serveInstalled(env);
    try {
      const sent = await run(bin, ['send', 'stripe', 'payment_failed', '--url', relay.url], { cwd: project, env: { ...process.env, ...env } });
      expect(sent.stdout).toMatch(/^200 \{"received":true,"id":"[0-9A-Z]{26}","duplicate":false\}/);
      await eventually(async () => {
        const metrics = await (await fetch(`${relay.url}/metrics`)).text();
        return metrics.includes('relay_reaction_runs_total{handler="relay/payment-failed",outcome="succeeded"} 1') || undefined;
      }, 'the payment-failed reaction (claimed, customer memory written, acked)');
    } finally {
      relay.child.kill();
      await exited(relay.child);
      await redis.stop();
    }
  });
});
