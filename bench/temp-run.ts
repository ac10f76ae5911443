import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { killServers } from './server-process.js';

/**
 * Runs `body` with a fresh directory under `os.tmpdir()`. When it returns or throws, on Ctrl-C
 * (exit 130) and at process exit alike, every server child is killed and the directory
 * deleted: no child process or temporary file outlives the run.
 */
export async function inTempDir<T>(name: string, body: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(os.tmpdir(), `mcp-event-relay-bench-${name}-`));
  const cleanUp = () => {
    killServers();
    rmSync(dir, { recursive: true, force: true });
  };
  const onSigint = () => {
    cleanUp();
    process.exit(130);
  };
  process.once('SIGINT', onSigint);
  process.once('exit', cleanUp);
  try {
    return await body(dir);
  } finally {
    cleanUp();
    process.off('SIGINT', onSigint);
    process.off('exit', cleanUp);
  }
}
