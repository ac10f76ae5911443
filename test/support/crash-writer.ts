/**
 * Child process of the crash test: appends to a SQLite log as fast as it can from several
 * concurrent producers, acks some events in a group, and reports on stdout every id whose
 * append (or ack) has returned — until the parent kills it with SIGKILL.
 */
import { SqliteEventLog } from '../../src/log/sqlite/event-log.js';
import { newEvent } from './events.js';

const path = process.argv[2];
if (!path) throw new Error('usage: crash-writer <db path>');
const log = new SqliteEventLog({ path });

async function producer(): Promise<never> {
  for (;;) {
    const { id } = await log.append(newEvent());
    process.stdout.write(`appended ${id}\n`);
  }
}

async function acker(): Promise<never> {
  for (;;) {
    const claimed = await log.claim('crash-test', { limit: 5 });
    if (claimed.length > 0) {
      await log.ack('crash-test', claimed.map((e) => e.id));
      for (const e of claimed) process.stdout.write(`acked ${e.id}\n`);
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
}

for (let i = 0; i < 8; i++) void producer();
void acker();
