import type { ChildProcess } from 'node:child_process';

/**
 * Every process the checker spawned and has not seen exit. An interrupted run (Ctrl-C, an
 * uncaught error, vitest tearing down a fork) must not leave relays or redis-servers behind:
 * on exit they are killed, each by its own pid.
 */
const live = new Set<ChildProcess>();

export function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

process.once('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAll();
    process.exit(130);
  });
}
