import { createRequire } from 'node:module';
import os from 'node:os';
import Database from 'better-sqlite3';

/** What a result was measured on, printed above every table: numbers without it mean little. */
export function describeMachine(): string[] {
  const cpus = os.cpus();
  const require = createRequire(import.meta.url);
  const driver = (require('better-sqlite3/package.json') as { version: string }).version;
  const db = new Database(':memory:');
  const sqlite = db.prepare('SELECT sqlite_version()').pluck().get() as string;
  db.close();
  return [
    `machine: ${cpus[0]?.model.trim() ?? 'unknown cpu'}, ${os.availableParallelism()} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM`,
    `runtime: node ${process.version} (${os.platform()} ${os.release()}), better-sqlite3 ${driver}, SQLite ${sqlite}`,
    `temp dir: ${os.tmpdir()}`,
  ];
}
