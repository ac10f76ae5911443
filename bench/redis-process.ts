import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, HOST } from './server-process.js';

/**
 * A private `redis-server` for a benchmark: a free port, a fresh directory, no persistence
 * (`--save ''`, no AOF), so the rows measure the relay's use of Redis and not the disk. It
 * runs on the servers' core when `cpu` is given: a Redis-backed relay gets one core in all,
 * as the SQLite relay does.
 */

export interface RedisProcess {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();

/** Kills every redis-server still running; for Ctrl-C and process exit. */
export function killRedisServers(): void {
  for (const child of live) child.kill('SIGKILL');
}

/** The installed redis-server's version, or undefined when there is none on PATH. */
export function redisServerVersion(): string | undefined {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error) return undefined;
  return /v=(\S+)/.exec(probe.stdout)?.[1] ?? 'unknown';
}

export async function startRedis(tmpDir: string, cpu?: string): Promise<RedisProcess> {
  const dir = mkdtempSync(join(tmpDir, 'redis-'));
  const port = await freePort();
  const args = ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--dir', dir];
  const [command, commandArgs] = cpu === undefined ? ['redis-server', args] : ['taskset', ['-c', cpu, 'redis-server', ...args]];
  const child = spawn(command, commandArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => live.delete(child));
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
      if (output.includes('Ready to accept connections')) resolve();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then(() => reject(new Error(`redis-server exited before it was ready:\n${output}`)));
  });
  return {
    url: `redis://${HOST}:${port}`,
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
