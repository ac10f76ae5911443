import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteEventLog } from '../../src/log/sqlite/event-log.js';
import { until } from '../contract/log-factory.js';
import { collect } from '../support/collect.js';
import { manualClock, newEvent } from '../support/events.js';

const dir = mkdtempSync(join(tmpdir(), 'relay-sqlite-'));
let n = 0;
const freshPath = () => join(dir, `log-${++n}.db`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the crash writer until it has reported `appends` appends, then SIGKILLs it. */
async function crashWriter(path: string, appends: number): Promise<{ appended: string[]; acked: string[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../support/crash-writer.ts'), path], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const appended: string[] = [];
  const acked: string[] = [];
  const exited = new Promise((resolve) => child.on('exit', resolve));
  for await (const line of createInterface({ input: child.stdout })) {
    const [what, id] = line.split(' ');
    (what === 'appended' ? appended : acked).push(id!);
    if (appended.length === appends) child.kill('SIGKILL');
  }
  await exited;
  return { appended, acked };
}

describe('SqliteEventLog durability', () => {
  it.each(Array.from({ length: 10 }, (_, i) => i + 1))(
    'keeps every returned append and ack after kill -9 (run %i of 10)',
    async () => {
      const path = freshPath();
      const { appended, acked } = await crashWriter(path, 300);
      expect(appended.length).toBeGreaterThanOrEqual(300);
      const log = new SqliteEventLog({ path });
      const { events } = await log.read({ after: null, limit: 10_000 });
      const ids = events.map((e) => e.id);
      const present = new Set(ids);
      expect(appended.filter((id) => !present.has(id))).toEqual([]);
      expect(ids).toEqual([...ids].sort());
      const claimable = new Set((await log.claim('crash-test', { limit: 100 })).map((e) => e.id));
      expect(acked.filter((id) => claimable.has(id))).toEqual([]);
      const next = await log.append(newEvent());
      expect(next.id > ids.at(-1)!).toBe(true);
      await log.close();
    },
  );

  it('keeps events, groups, leases and acks across close and reopen', async () => {
    const path = freshPath();
    const clock = manualClock();
    const first = new SqliteEventLog({ path, now: clock.now });
    const ids = (await first.append([newEvent(), newEvent(), newEvent()])).map((r) => r.id);
    await first.claim('g', { limit: 2 });
    await first.ack('g', [ids[0]!]);
    await first.close();
    const second = new SqliteEventLog({ path, now: clock.now });
    expect((await second.read({ after: null })).events.map((e) => e.id)).toEqual(ids);
    expect(await second.pending('g')).toEqual({ pending: 2, leased: 1, deadLettered: 0 });
    expect((await second.claim('g')).map((e) => e.id)).toEqual([ids[2]]);
    await second.close();
  });

  it('mints ids above the stored head after a restart with the clock behind it', async () => {
    const path = freshPath();
    const clock = manualClock();
    const first = new SqliteEventLog({ path, now: clock.now });
    const before = await first.append(newEvent());
    await first.close();
    clock.advance(-3_600_000);
    const second = new SqliteEventLog({ path, now: clock.now });
    const after = await second.append(newEvent());
    expect(after.id > before.id).toBe(true);
    await second.close();
  });

  it('orders ids by commit when two processes write one file, and followers see the other writer', async () => {
    const path = freshPath();
    const a = new SqliteEventLog({ path });
    const b = new SqliteEventLog({ path });
    const follower = collect(a, { after: null });
    await Promise.all(
      [a, b].map(async (log) => {
        for (let i = 0; i < 100; i++) await log.append(newEvent());
      }),
    );
    const { events } = await a.read({ after: null, limit: 1000 });
    const ids = events.map((e) => e.id);
    expect(ids).toHaveLength(200);
    expect(ids).toEqual([...ids].sort());
    await until(() => follower.events.length === 200);
    expect(follower.ids()).toEqual(ids);
    follower.reader.stop();
    await Promise.all([a.close(), b.close()]);
  });

  it('refuses a database written with another schema version, naming both', () => {
    const path = freshPath();
    new SqliteEventLog({ path }).close();
    const db = new Database(path);
    db.prepare(`UPDATE meta SET value = '99' WHERE key = 'schema'`).run();
    db.close();
    expect(() => new SqliteEventLog({ path })).toThrow(/schema 99; this relay reads schema 1/);
  });

  it('rejects appends with store_unavailable when the commit fails, committing nothing', async () => {
    const path = freshPath();
    const log = new SqliteEventLog({ path, busyTimeoutMs: 20 });
    const blocker = new Database(path);
    blocker.exec('BEGIN IMMEDIATE');
    await expect(log.append([newEvent(), newEvent()])).rejects.toMatchObject({ code: 'store_unavailable' });
    blocker.exec('ROLLBACK');
    blocker.close();
    expect(await log.head()).toBeNull();
    const retried = await log.append(newEvent());
    expect((await log.read({ after: null })).events.map((e) => e.id)).toEqual([retried.id]);
    await log.close();
  });
});
