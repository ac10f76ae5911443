import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { NewEvent } from '../src/events/event.js';
import type { EventLog, ReadOptions, ReadResult } from '../src/log/event-log.js';
import { MemoryEventLog } from '../src/log/memory/event-log.js';
import { SqliteEventLog } from '../src/log/sqlite/event-log.js';
import { BareSqlite } from './bare-sqlite.js';
import { describeMachine } from './machine.js';
import type { Budget, Measurement, Slice } from './measure.js';
import { interleave, opsPerSecond, timePasses, timeProducers, timeSync } from './measure.js';
import { stripePaymentFailed } from './stripe-event.js';
import { formatCount, formatRatio, formatSeconds, formatTable } from './table.js';

/**
 * `npm run bench -- log`: the event log's append and replay rates per backend, against bare
 * better-sqlite3 measured in the same run (conventions rule 7). See bench/README.md.
 */

const PRODUCERS = 16;
const PAGE = 1000;
const BATCH = 1000;
const WARMUP: Budget = { maxOps: 300, maxMs: 300 };

interface Settings {
  /** Per measurement, summed over its rounds. */
  budget: Budget;
  rounds: number;
  replayEvents: number;
}

interface Row {
  scenario: string;
  backend: string;
  result: Measurement;
  /** What the ratio divides by; absent for a baseline row itself. */
  baseline?: Measurement;
}

type Recorder = (row: Row) => void;

export async function run(args: string[]): Promise<void> {
  const settings = parseSettings(args);
  const dir = mkdtempSync(join(tmpdir(), 'mcp-event-relay-bench-'));
  const cleanUp = () => rmSync(dir, { recursive: true, force: true });
  const onSigint = () => {
    cleanUp();
    process.exit(130);
  };
  process.once('SIGINT', onSigint);
  let files = 0;
  const freshPath = (name: string) => join(dir, `${++files}-${name.replace(/\W+/g, '-')}.db`);

  const { budget, rounds, replayEvents } = settings;
  console.log('# event log benchmark');
  for (const line of describeMachine()) console.log(line);
  console.log(`event: Stripe payment_intent.payment_failed, ${sampleBodyBytes()} bytes stored per event`);
  console.log(`budget: each append row stops at ${formatCount(budget.maxOps)} ops or ${budget.maxMs / 1000} s, after a warm-up;`);
  console.log(`        replay rows preload ${formatCount(replayEvents)} events by batches, then repeat full passes for ≥ ${budget.maxMs / 1000} s;`);
  console.log(`        SQLite rows and their baselines run interleaved in ${rounds} rounds`);
  console.log('');

  const rows: Row[] = [];
  const record: Recorder = (row) => {
    rows.push(row);
    const ratio = row.baseline ? formatRatio(opsPerSecond(row.result) / opsPerSecond(row.baseline)) : 'baseline';
    console.error(`  ${row.scenario} | ${row.backend}: ${formatCount(opsPerSecond(row.result))}/s (${ratio})`);
  };
  try {
    await appendScenarios(settings, freshPath, record);
    await replayScenarios(settings, freshPath, record);
  } finally {
    process.off('SIGINT', onSigint);
    cleanUp();
  }
  printReport(rows);
}

function parseSettings(args: string[]): Settings {
  const { values } = parseArgs({
    args,
    options: {
      seconds: { type: 'string', default: '3' },
      rounds: { type: 'string', default: '3' },
      'replay-events': { type: 'string', default: '100000' },
    },
  });
  const seconds = Number(values.seconds);
  const rounds = Number(values.rounds);
  const replayEvents = Number(values['replay-events']);
  if (!(seconds > 0) || !Number.isInteger(rounds) || rounds < 1 || !Number.isInteger(replayEvents) || replayEvents < BATCH) {
    throw new Error(`usage: log [--seconds <s>=3] [--rounds <n>=3] [--replay-events <n ≥ ${BATCH}>=100000]`);
  }
  return { budget: { maxOps: 100_000, maxMs: seconds * 1000 }, rounds, replayEvents };
}

/**
 * One event per `append`. The SQLite logs and the bare loops are interleaved; the memory log
 * runs on its own first, so the heap it fills cannot slow the SQLite slices down.
 */
async function appendScenarios({ budget, rounds }: Settings, freshPath: (name: string) => string, record: Recorder) {
  const scenarioFor = (producers: number) => (producers === 1 ? 'append, 1 producer' : `append, ${producers} producers`);
  const memory: { producers: number; result: Measurement }[] = [];
  for (const producers of [1, PRODUCERS]) {
    const log = new MemoryEventLog();
    const append = () => log.append(stripePaymentFailed());
    await timeProducers(producers, append, WARMUP);
    memory.push({ producers, result: await timeProducers(producers, append, budget) });
    await log.close();
  }

  const bare = { full: new BareSqlite(freshPath('bare-full'), 'full'), normal: new BareSqlite(freshPath('bare-normal'), 'normal') };
  const bareSlice = (db: BareSqlite): Slice => (b) => timeSync(() => db.insert([stripePaymentFailed()]), b);
  const logs = [1, PRODUCERS].flatMap((producers) =>
    (['full', 'normal'] as const).map((synchronous) => ({
      producers,
      synchronous,
      log: new SqliteEventLog({ path: freshPath(`sqlite-${synchronous}-${producers}`), synchronous }),
    })),
  );
  const logSlice =
    ({ log, producers }: (typeof logs)[number]): Slice =>
    (b) =>
      timeProducers(producers, () => log.append(stripePaymentFailed()), b);
  const slices = [bareSlice(bare.full), bareSlice(bare.normal), ...logs.map(logSlice)];
  try {
    for (const slice of slices) await slice(WARMUP);
    const [bareFull, bareNormal, ...results] = await interleave(slices, rounds, budget);
    const baseline = { full: bareFull!, normal: bareNormal! };
    record({ scenario: 'append, 1 row per tx', backend: 'bare better-sqlite3, full', result: baseline.full });
    record({ scenario: 'append, 1 row per tx', backend: 'bare better-sqlite3, normal', result: baseline.normal });
    for (const { producers, result } of memory) {
      record({ scenario: scenarioFor(producers), backend: 'memory', result, baseline: baseline.full });
    }
    logs.forEach(({ producers, synchronous }, i) => {
      const result = results[i]!;
      record({ scenario: scenarioFor(producers), backend: `sqlite ${synchronous}`, result, baseline: baseline[synchronous] });
    });
  } finally {
    bare.full.close();
    bare.normal.close();
    for (const { log } of logs) await log.close();
  }
}

/**
 * Preloads by batches (itself a row), then reads everything from the start by pages. Replay is
 * read-only, so `synchronous` cannot matter and only `full` is measured.
 */
async function replayScenarios({ budget, rounds, replayEvents }: Settings, freshPath: (name: string) => string, record: Recorder) {
  const batchScenario = `append, batches of ${BATCH}`;
  const replayScenario = `replay ${formatCount(replayEvents)}, pages of ${PAGE}`;
  const batches = replayEvents / BATCH;

  const memory = new MemoryEventLog();
  const memoryLoad = await preload(memory, batches);
  await replayLog(memory, replayEvents);
  const memoryReplay = await timePasses(() => replayLog(memory, replayEvents), budget.maxMs);
  await memory.close();

  const bare = new BareSqlite(freshPath('bare-replay'), 'full');
  const log = new SqliteEventLog({ path: freshPath('sqlite-replay'), synchronous: 'full' });
  try {
    // Batch by batch, alternating, for the same reason as interleave().
    const bareLoad: Measurement = { ops: 0, seconds: 0 };
    const logLoad: Measurement = { ops: 0, seconds: 0 };
    for (let i = 0; i < batches; i++) {
      const forBare = batchOfEvents();
      let start = performance.now();
      bare.insert(forBare);
      bareLoad.seconds += (performance.now() - start) / 1000;
      const forLog = batchOfEvents();
      start = performance.now();
      await log.append(forLog);
      logLoad.seconds += (performance.now() - start) / 1000;
      bareLoad.ops += BATCH;
      logLoad.ops += BATCH;
    }
    record({ scenario: batchScenario, backend: 'bare better-sqlite3, full', result: bareLoad });
    record({ scenario: batchScenario, backend: 'memory', result: memoryLoad, baseline: bareLoad });
    record({ scenario: batchScenario, backend: 'sqlite full', result: logLoad, baseline: bareLoad });

    const slices: Slice[] = [
      (b) => timePasses(() => bare.replay(PAGE), b.maxMs),
      // Not a contender: the SELECT alone shows how much of a replay is decoding bodies.
      (b) => timePasses(() => bare.replay(PAGE, false), b.maxMs),
      (b) => timePasses(() => replayLog(log, replayEvents), b.maxMs),
      (b) => timePasses(() => replayLog(log, replayEvents, 'serialized'), b.maxMs),
    ];
    bare.replay(PAGE);
    await replayLog(log, replayEvents);
    const [bareReplay, selectOnly, logReplay, logSerialized] = await interleave(slices, rounds, budget);
    record({ scenario: replayScenario, backend: 'bare better-sqlite3 + JSON.parse', result: bareReplay! });
    record({ scenario: replayScenario, backend: 'bare better-sqlite3, no parse', result: selectOnly!, baseline: bareReplay! });
    record({ scenario: replayScenario, backend: 'memory', result: memoryReplay, baseline: bareReplay! });
    record({ scenario: replayScenario, backend: 'sqlite full', result: logReplay!, baseline: bareReplay! });
    // What SSE replay uses: stored JSON text straight to the wire, so the baseline is the bare SELECT.
    record({ scenario: replayScenario, backend: 'sqlite full, readSerialized', result: logSerialized!, baseline: selectOnly! });
  } finally {
    bare.close();
    await log.close();
  }
}

async function preload(log: EventLog, batches: number): Promise<Measurement> {
  let seconds = 0;
  for (let i = 0; i < batches; i++) {
    const batch = batchOfEvents();
    const start = performance.now();
    await log.append(batch);
    seconds += (performance.now() - start) / 1000;
  }
  return { ops: batches * BATCH, seconds };
}

/** Reads from the beginning by pages until the head; returns the events read. */
async function replayLog(log: EventLog, expected: number, as: 'decoded' | 'serialized' = 'decoded'): Promise<number> {
  let cursor: string | null = null;
  let read = 0;
  for (;;) {
    const options: ReadOptions = { after: cursor, limit: PAGE };
    const page: Omit<ReadResult, 'events'> & { events: unknown[] } = as === 'decoded' ? await log.read(options) : await log.readSerialized(options);
    read += page.events.length;
    cursor = page.cursor;
    if (!page.hasMore) break;
  }
  if (read !== expected) throw new Error(`replay read ${read} events, expected ${expected}`);
  return read;
}

function batchOfEvents(): NewEvent[] {
  return Array.from({ length: BATCH }, stripePaymentFailed);
}

function sampleBodyBytes(): number {
  const at = new Date().toISOString();
  return Buffer.byteLength(JSON.stringify({ id: '0'.repeat(26), ...stripePaymentFailed(), occurredAt: at, receivedAt: at }));
}

const SCENARIO_ORDER = ['append, 1 row per tx', 'append, 1 producer', `append, ${PRODUCERS} producers`, 'append, batches', 'replay'];

function printReport(measured: Row[]): void {
  const rank = (r: Row) => SCENARIO_ORDER.findIndex((prefix) => r.scenario.startsWith(prefix));
  const rows = [...measured].sort((a, b) => rank(a) - rank(b));
  const table = formatTable(
    [
      { header: 'scenario' },
      { header: 'backend' },
      { header: 'ops', align: 'right' },
      { header: 'seconds', align: 'right' },
      { header: 'ops/s', align: 'right' },
      { header: 'ratio vs baseline', align: 'right' },
    ],
    rows.map((r) => [
      r.scenario,
      r.backend,
      formatCount(r.result.ops),
      formatSeconds(r.result.seconds),
      formatCount(opsPerSecond(r.result)),
      r.baseline ? formatRatio(opsPerSecond(r.result) / opsPerSecond(r.baseline)) : 'baseline',
    ]),
  );
  console.log(table);
  console.log('');
  console.log('baselines: append rows ÷ the bare 1-row-per-tx loop with the same synchronous (memory: ÷ full);');
  console.log(`           batch rows ÷ bare batches of ${BATCH}; replay rows ÷ bare SELECT pages + JSON.parse of each body,`);
  console.log('           except readSerialized ÷ the bare SELECT alone (both hand over stored JSON text).');
  console.log('');

  const find = (prefix: string, backend: string) => rows.find((r) => r.scenario.startsWith(prefix) && r.backend === backend);
  const concurrent = find(`append, ${PRODUCERS} producers`, 'sqlite full');
  const replays = [find('replay', 'sqlite full'), find('replay', 'sqlite full, readSerialized')];
  if (concurrent?.baseline) {
    const ratio = opsPerSecond(concurrent.result) / opsPerSecond(concurrent.baseline);
    console.log(`${PRODUCERS} producers sqlite ≥ bare 1-row-per-tx loop: ${ratio >= 1 ? 'yes' : 'no'} (${formatRatio(ratio)})`);
  }
  for (const replay of replays) {
    if (!replay) continue;
    const rate = opsPerSecond(replay.result);
    console.log(`${replay.backend} replay ≥ 100,000 events/s: ${rate >= 100_000 ? 'yes' : 'no'} (${formatCount(rate)} events/s)`);
  }
}
