/**
 * Child process of the steady-stream test: two producers append back to back to a SQLite
 * log whose checkpointer starts the WAL over at 64 pages, checked every 5 ms. Nothing else
 * keeps this process's event loop alive, so an append waiting on something that holds no
 * handle (a restart's pause) would end it early. Prints `appended <n> wal-pages <pages>`
 * (the WAL file keeps the largest size it reached), then closes the log.
 */
import { statSync } from 'node:fs';
import { SqliteEventLog } from '../../src/log/sqlite/event-log.js';
import { newEvent } from './events.js';

const [path, rounds] = process.argv.slice(2);
if (!path || !rounds) throw new Error('usage: steady-appender <db path> <rounds>');
const log = new SqliteEventLog({ path, synchronous: 'normal', checkpoints: { everyMs: 5, restartAtPages: 64 } });
for (let i = 0; i < Number(rounds); i++) await Promise.all([log.append(newEvent()), log.append(newEvent())]);
const walPages = statSync(`${path}-wal`).size / (4096 + 24);
process.stdout.write(`appended ${await log.retained()} wal-pages ${Math.round(walPages)}\n`);
await log.close();
