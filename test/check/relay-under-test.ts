import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startRelay, type Relay } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { EventLog } from '../../src/log/event-log.js';
import { RedisEventLog } from '../../src/log/redis/event-log.js';
import { SqliteEventLog } from '../../src/log/sqlite/event-log.js';
import { createLogger } from '../../src/observe/logger.js';
import { freePort } from '../contract/delivery-modes/relay-process.js';
import { secretEnv } from '../support/relay.js';
import { track } from './children.js';
import type { SeedSettings, StoreKind } from './schedule.js';

/** The bearer key every checker client uses; its principal `alice` owns the group `alice/check`. */
export const CHECK_KEY = 'check-key-0123456789abcdef';
export const CHECK_GROUP = 'alice/check';

const cli = join(import.meta.dirname, '../../src/cli.ts');
const START_MS = 20_000;
const STOP_MS = 10_000;

/**
 * The relay a seed runs against, plus the checker's own handle on its store (to trim, and to
 * look at what the log holds). SQLite and Redis relays are real `serve` processes on a fixed
 * loopback port, so they can be killed and started again where the readers expect them; the
 * memory store has nothing that survives a restart, so it runs in this process and is never
 * restarted.
 */
export interface RelayUnderTest {
  readonly url: string;
  readonly store: EventLog;
  readonly restartable: boolean;
  /** The relay's last log lines, for failure reports. */
  readonly lines: string[];
  kill(): Promise<void>;
  /** SIGTERM; false when it did not exit within STOP_MS (then it was killed). */
  stop(): Promise<boolean>;
  start(): Promise<void>;
  close(): Promise<void>;
}

function relayEnv(settings: SeedSettings, storeUrl: string, port: number): Record<string, string> {
  return {
    ...secretEnv,
    HOST: '127.0.0.1',
    PORT: String(port),
    RELAY_STORE: storeUrl,
    RELAY_SQLITE_SYNCHRONOUS: 'normal',
    RELAY_API_KEYS: `${CHECK_KEY}:alice`,
    RELAY_LOG_LEVEL: 'info',
    RELAY_HEARTBEAT: `${settings.heartbeatMs}ms`,
    RELAY_STREAM_LIFETIME: `${settings.lifetimeMs}ms`,
    RELAY_STREAM_BUFFER_BYTES: String(settings.bufferBytes),
    RELAY_LEASE: `${settings.leaseMs}ms`,
    RELAY_MAX_DELIVERIES: String(settings.maxDeliveries),
    RELAY_MAX_STREAMS_PER_PRINCIPAL: '64',
    // The checker trims on its own schedule; the relay's timer must not trim behind its back.
    RELAY_RETENTION_INTERVAL: '24h',
    // The model holds the events the checker sent; the reactions would append derived ones.
    RELAY_REACTIONS: 'off',
    // Webhook subscribers' receivers listen on loopback; their retries outlast any spell of
    // failure a schedule holds (about 30 s of them), so no event is given up. The lease is
    // renewed at the relay's 1 s scans, so it must outlast a few of them (a lapse restarts
    // the sender from its watermark); on Redis it holds a killed relay's subscriptions back
    // this long after the restart.
    RELAY_WEBHOOK_ALLOW: 'loopback',
    RELAY_WEBHOOK_RETRY: '100ms,200ms,400ms,700ms,1s,2s,3s,5s,8s,10s',
    RELAY_WEBHOOK_LEASE: '6s',
  };
}

export async function startRelayUnderTest(store: StoreKind, settings: SeedSettings, redisUrl?: string): Promise<RelayUnderTest> {
  const port = await freePort();
  if (store === 'memory') return startInProcess(settings, port);
  const dir = mkdtempSync(join(tmpdir(), 'relay-check-'));
  const storeUrl = store === 'sqlite' ? `sqlite:${join(dir, 'relay.db')}` : redisUrl;
  if (!storeUrl) throw new Error('the redis store needs a redis-server url');
  const logOptions = { leaseMs: settings.leaseMs, maxDeliveries: settings.maxDeliveries };
  const relay = new ProcessRelay(port, relayEnv(settings, storeUrl, port), dir);
  try {
    await relay.start();
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  // Opened after the relay created the file and its schema.
  relay.store =
    store === 'sqlite'
      ? new SqliteEventLog({ path: join(dir, 'relay.db'), synchronous: 'normal', ...logOptions })
      : new RedisEventLog({ url: storeUrl, ...logOptions });
  return relay;
}

async function startInProcess(settings: SeedSettings, port: number): Promise<RelayUnderTest> {
  const config = loadConfig(relayEnv(settings, 'memory', port));
  const relay: Relay = await startRelay(config, createLogger('silent'));
  return {
    url: relay.url,
    store: relay.log,
    restartable: false,
    lines: [],
    kill: () => Promise.reject(new Error('the in-process memory relay cannot be killed')),
    stop: () => Promise.reject(new Error('the in-process memory relay cannot be restarted')),
    start: () => Promise.reject(new Error('the in-process memory relay cannot be restarted')),
    close: () => relay.close(),
  };
}

class ProcessRelay implements RelayUnderTest {
  readonly restartable = true;
  readonly lines: string[] = [];
  store!: EventLog;
  #child: ChildProcess | undefined;

  constructor(
    readonly port: number,
    private readonly env: Record<string, string>,
    private readonly dir: string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Resolves once the relay logged its URL; a port taken meanwhile is retried a few times. */
  async start(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#spawn();
      } catch (error) {
        if (attempt >= 3) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  async #spawn(): Promise<void> {
    const child = track(spawn(process.execPath, ['--import', 'tsx', cli, 'serve'], { env: { ...process.env, ...this.env }, stdio: ['ignore', 'pipe', 'pipe'] }));
    this.#child = child;
    const keep = (line: string) => {
      this.lines.push(line);
      if (this.lines.length > 300) this.lines.splice(0, this.lines.length - 300);
    };
    createInterface({ input: child.stderr! }).on('line', (line) => keep(`stderr: ${line}`));
    let timer: NodeJS.Timeout | undefined;
    const listening = new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        keep(line);
        if (line.includes('"url"')) resolve();
      });
      child.once('exit', (code, signal) => reject(new Error(`serve exited (${code ?? signal}) before listening: ${this.lines.slice(-5).join(' | ')}`)));
      timer = setTimeout(() => reject(new Error(`serve did not listen within ${START_MS} ms`)), START_MS);
    });
    try {
      await listening;
    } catch (error) {
      await this.kill();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  async kill(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exit = once(child, 'exit');
    child.kill('SIGKILL');
    await exit;
  }

  async stop(): Promise<boolean> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return true;
    const exit = once(child, 'exit');
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const inTime = await Promise.race([exit.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), STOP_MS)))]);
    clearTimeout(timer);
    if (!inTime) await this.kill();
    this.#child = undefined;
    return inTime;
  }

  async close(): Promise<void> {
    await this.kill();
    await this.store?.close().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
