import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { track } from './children.js';
import { freePort } from '../contract/delivery-modes/relay-process.js';

export interface CheckRedis {
  url: string;
  /** Empties every database: each seed starts from a new log. */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A private redis-server on a loopback port for `--store redis` (no persistence: the relay
 * is what gets killed, never Redis). Not test/support's helper, which registers vitest hooks.
 */
export async function startCheckRedis(): Promise<CheckRedis> {
  if (spawnSync('redis-server', ['--version']).error) throw new Error('redis-server is not on PATH (Debian/Ubuntu: apt-get install -y redis-server)');
  const dir = mkdtempSync(join(tmpdir(), 'relay-check-redis-'));
  const port = await freePort();
  const child = track(spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' }));
  const url = `redis://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exit = once(child, 'exit');
      child.kill('SIGKILL');
      await exit;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null || attempt > 200) {
      await stop();
      throw new Error(`redis-server did not listen on ${port}`);
    }
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => resolve(socket.destroy() !== undefined));
      socket.once('error', () => resolve(false));
    });
    if (open) break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return {
    url,
    async flush() {
      const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
      try {
        await client.connect();
        await client.flushall();
      } finally {
        client.disconnect();
      }
    },
    stop,
  };
}
