import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

export interface RedisServerOptions {
  /** Turns the append-only file on with this fsync policy (`always`: every acknowledged write is on disk). */
  appendfsync?: 'always' | 'everysec';
  /** What Redis evicts at `maxmemory` (its default, `noeviction`, evicts nothing). */
  maxmemoryPolicy?: string;
  /** Takes `CONFIG` away, as managed services do: `renamed` away (`rename-command`), or `denied` by the default user's ACL. */
  configCommand?: 'renamed' | 'denied';
}

export interface RedisTestServer {
  readonly port: number;
  readonly url: string;
  /** Kills the server (SIGKILL when `hard`) and waits for it to exit; the data dir stays. */
  kill(hard?: boolean): Promise<void>;
  /** Starts the server again on the same port and data dir (what AOF kept survives). */
  restart(): Promise<void>;
  /** Stops the server and removes its data dir. */
  stop(): Promise<void>;
}

const INSTALL_HINT = 'redis-server is not on PATH: install it (Debian/Ubuntu: `apt-get install -y redis-server`), or set RELAY_TEST_SKIP_REDIS=1 to skip the Redis suites';

/** True when the Redis suites should be skipped: only on the explicit opt-out. */
export const skipRedis = process.env.RELAY_TEST_SKIP_REDIS === '1';

/** Starts a private `redis-server` on a free port in a fresh temp dir. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisTestServer> {
  if (spawnSync('redis-server', ['--version']).error) throw new Error(INSTALL_HINT);
  const dir = mkdtempSync(join(tmpdir(), 'relay-redis-'));
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir];
  args.push(...(options.appendfsync ? ['--appendonly', 'yes', '--appendfsync', options.appendfsync] : ['--appendonly', 'no']));
  if (options.maxmemoryPolicy) args.push('--maxmemory-policy', options.maxmemoryPolicy);
  if (options.configCommand === 'renamed') args.push('--rename-command', 'CONFIG', '');
  if (options.configCommand === 'denied') args.push('--user', 'default', 'on', 'nopass', '~*', '&*', '+@all', '-config');
  let child: ChildProcess | undefined;

  const start = async () => {
    child = spawn('redis-server', args, { stdio: 'ignore' });
    await waitForPort(port, child);
  };
  const kill = async (hard = false) => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill(hard ? 'SIGKILL' : 'SIGTERM');
    await exited;
  };

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    async restart() {
      await kill();
      await start();
    },
    async stop() {
      await kill(true);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * One private server for the enclosing suite (or file): started in `beforeAll`, stopped in
 * `afterAll` — after the suite's own later-registered `afterAll`s, so what they close still
 * reaches it. Returns a getter, as the server exists only once the hook ran.
 */
export function useRedisServer(options: RedisServerOptions = {}): () => RedisTestServer {
  let server: RedisTestServer | undefined;
  beforeAll(async () => {
    server = await startRedisServer(options);
  });
  afterAll(() => server?.stop());
  return () => {
    if (!server) throw new Error('the Redis test server is used before its beforeAll ran');
    return server;
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once the server accepts connections; rejects if it exits first. */
async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode} before listening on ${port}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`redis-server did not listen on ${port}`);
}
