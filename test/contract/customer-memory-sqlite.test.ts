import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteEventLog } from '../../src/log/sqlite/event-log.js';
import { SqliteCustomerMemory } from '../../src/customer-memory/sqlite/customer-memory.js';
import { newEvent } from '../support/events.js';
import { describeCustomerMemoryContract } from './customer-memory-contract.js';

const dir = mkdtempSync(join(tmpdir(), 'relay-memory-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeCustomerMemoryContract('sqlite', (options) => new SqliteCustomerMemory({ path: join(dir, `memory-${++n}.db`), ...options }));

describe('SqliteCustomerMemory', () => {
  const source = { eventId: 'E1', occurredAt: '2026-01-01T00:00:00Z' };

  it('keeps what it stored across a reopen', async () => {
    const path = join(dir, 'reopen.db');
    const first = new SqliteCustomerMemory({ path });
    await first.upsert('cus_1', 'k', { v: 1 }, source);
    await first.close();
    const second = new SqliteCustomerMemory({ path });
    expect((await second.get('cus_1')).facts.k?.value).toEqual({ v: 1 });
    expect(await second.upsert('cus_1', 'k', { v: 2 }, source)).toBe('duplicate');
    await second.close();
  });

  it('shares a file with the event log without disturbing it', async () => {
    const path = join(dir, 'shared.db');
    const log = new SqliteEventLog({ path });
    const memory = new SqliteCustomerMemory({ path });
    const appended = await log.append(newEvent());
    await memory.upsert('cus_1', 'k', 1, source);
    await log.close();
    await memory.close();
    const reopened = new SqliteEventLog({ path });
    expect((await reopened.read({ after: null })).events.map((e) => e.id)).toEqual([appended.id]);
    await reopened.close();
  });

  it('agrees on one current value when two connections write one key', async () => {
    const path = join(dir, 'two.db');
    const a = new SqliteCustomerMemory({ path });
    const b = new SqliteCustomerMemory({ path });
    await a.upsert('cus_1', 'k', 'newer', { eventId: 'E2', occurredAt: '2026-01-01T00:05:00Z' });
    expect(await b.upsert('cus_1', 'k', 'older', { eventId: 'E1', occurredAt: '2026-01-01T00:01:00Z' })).toBe('stale');
    expect(await b.upsert('cus_1', 'k', 'newer', { eventId: 'E2', occurredAt: '2026-01-01T00:05:00Z' })).toBe('duplicate');
    expect((await a.get('cus_1')).facts.k?.value).toBe('newer');
    await a.close();
    await b.close();
  });
});
