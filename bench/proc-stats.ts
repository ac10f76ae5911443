import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';

/**
 * What the benchmarks read about processes: CPU time and resident memory from `/proc`
 * (Linux only; elsewhere `undefined`), and the pinning of the load generator to its own core.
 */

/** Where each side runs: the servers on one core, the load generator on another. */
export interface Pinning {
  server: string;
  client: string;
}

/**
 * On two cores or more, with taskset, pins every thread of this process (the load generator)
 * to CPU 1; servers start on CPU 0. Processes forked afterwards inherit the pinning. Without
 * pinning the scheduler may put both sides on one core.
 */
export function pinLoadGenerator(): Pinning | undefined {
  if (os.platform() !== 'linux' || os.availableParallelism() < 2) return undefined;
  try {
    execFileSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
    return { server: '0', client: '1' };
  } catch {
    return undefined;
  }
}

let clockTicks: number | undefined;

/** CPU seconds (user + system, all threads) a process has used, from /proc; Linux only. */
export function cpuSeconds(pid: number): number | undefined {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return undefined;
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  // Fields after the parenthesized command name: state is field 3, utime 14, stime 15.
  const text = readFileSync(stat, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / clockTicks;
}

/** Resident set size in bytes (`VmRSS`), from /proc; Linux only. */
export function rssBytes(pid: number): number | undefined {
  const status = `/proc/${pid}/status`;
  if (!existsSync(status)) return undefined;
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(status, 'utf8'));
  return match ? Number(match[1]) * 1024 : undefined;
}
