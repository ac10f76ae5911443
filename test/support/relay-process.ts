import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const cli = join(import.meta.dirname, '../../src/cli.ts');

/** Runs the real CLI in a child process (through tsx), with `env` over this process's environment. */
export function runCli(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', cli, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export interface RelayProcess {
  child: ChildProcess;
  /** The base URL the relay reported, e.g. `http://127.0.0.1:41234`. */
  url: string;
  port: number;
  /** Every stdout line the relay printed after it started listening (its pino log). */
  lines: string[];
}

/**
 * Starts `serve` on a free port and resolves once it reports its URL; rejects with the
 * relay's stderr when it exits first. The reactions are off unless `env` turns them on, as
 * in `testRelayEnv`: tests count the events in the log exactly.
 */
export function serveRelay(env: Record<string, string>): Promise<RelayProcess> {
  return listening(runCli(['serve', '--port', '0'], { RELAY_REACTIONS: 'off', ...env }));
}

/**
 * Resolves once `child`, a `serve` started with its stdout and stderr piped, reports its URL;
 * rejects with its stderr when it exits first.
 */
export async function listening(child: ChildProcess): Promise<RelayProcess> {
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines: string[] = [];
  const stdout = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    stdout.on('line', (line) => {
      const record = logRecord(line);
      if (record?.url) resolve(record.url as string);
      else lines.push(line);
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code} before listening: ${stderr.trim()}`)));
  });
  return { child, url, port: Number(new URL(url).port), lines };
}

/** A stdout line as the JSON record it should be; `undefined` for anything else (a test then fails on what is missing). */
export function logRecord(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Resolves with the exit code once `child` has exited (at once when it already has). */
export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}
