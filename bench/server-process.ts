import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/**
 * Servers under measurement run as child processes of the benchmark, from the repository
 * root, on a loopback port chosen here, so each has its own core and the load generator
 * its own. Nothing from the caller's relay configuration (`RELAY_*`, `*_WEBHOOK_SECRET`,
 * `HOST`, `PORT`) reaches them: only `env` decides what is measured.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const HOST = '127.0.0.1';

export interface ServerProcessSpec {
  name: string;
  /** Node arguments, e.g. `['--import', 'tsx', 'src/cli.ts', 'serve']`. */
  args: string[];
  env: Record<string, string>;
  /** Pin to this CPU with taskset. */
  cpu?: string;
  /** Listen here instead of on a free port: a restart where the clients expect the server. */
  port?: number;
  /** Also write everything the server prints here (e.g. its `--trace-gc` lines). */
  outputFile?: string;
}

export interface ServerProcess {
  /** `http://127.0.0.1:<port>` */
  url: string;
  pid: number;
  /** performance.now() when `GET /healthz` first answered 200. */
  readyAt: number;
  /** SIGTERM, SIGKILL after 15 s; resolves once the process is gone. */
  stop(): Promise<void>;
  /** SIGKILL: the server gets no chance to answer or close anything; resolves once it is gone. */
  kill(): Promise<void>;
}

const live = new Set<ChildProcess>();

/** Kills every server still running; for Ctrl-C and process exit. */
export function killServers(): void {
  for (const child of live) child.kill('SIGKILL');
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, HOST, () => {
      const address = probe.address();
      const port = address !== null && typeof address === 'object' ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** Starts `node <args>` and waits until `GET /healthz` answers (the relay logs nothing at warn). */
export async function startServer(spec: ServerProcessSpec): Promise<ServerProcess> {
  const port = spec.port ?? (await freePort());
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || key.startsWith('RELAY_') || key.endsWith('_WEBHOOK_SECRET') || key === 'HOST' || key === 'PORT') continue;
    env[key] = value;
  }
  Object.assign(env, spec.env, { HOST, PORT: String(port) });
  const [command, args] = spec.cpu === undefined ? [process.execPath, spec.args] : ['taskset', ['-c', spec.cpu, process.execPath, ...spec.args]];
  const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let output = '';
  const file = spec.outputFile === undefined ? undefined : createWriteStream(spec.outputFile);
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
    file?.write(chunk);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  // With an output file, gone means its output is all written too ('close' comes after the pipes end).
  const exited = new Promise<void>((resolve) => (file ? child.once('close', () => file.end(resolve)) : child.once('exit', () => resolve())));
  void exited.then(() => live.delete(child));
  const url = `http://${HOST}:${port}`;

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const killed = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(killed);
  };
  const kill = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await exited;
  };

  const deadline = Date.now() + 30_000;
  let readyAt: number;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${spec.name} exited before listening (${child.exitCode ?? child.signalCode}):\n${output}`);
    }
    try {
      const response = await fetch(`${url}/healthz`);
      await response.arrayBuffer();
      readyAt = performance.now();
      if (response.ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${spec.name} did not answer on ${url} within 30 s:\n${output}`);
    }
    // Short: the modes benchmark times recovery from the moment /healthz answers.
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return { url, pid: child.pid!, readyAt, stop, kill };
}
