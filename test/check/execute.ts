import { GroupConsumers } from './consumers.js';
import { LOG_START, Model } from './model.js';
import { createReader, WebhookReader } from './readers/index.js';
import { startRelayUnderTest } from './relay-under-test.js';
import { describeOp, FILTERS, type Op, type OpKind, type Schedule } from './schedule.js';
import { type Run, verifyRun, type Verdict } from './verify.js';
import { WebhookSender } from './webhooks.js';

export interface RunOptions {
  /** A running redis-server for `--store redis` (flushed before the seed). */
  redisUrl?: string;
  flushRedis?: () => Promise<void>;
  /** Prints each operation as it runs, with the time it took (`--trace`). */
  trace?: (line: string) => void;
}

export interface RunResult extends Verdict {
  /** Operations that ran, by kind (an operation whose reader or setting was absent is skipped). */
  ran: Partial<Record<OpKind, number>>;
  committed: number;
  webhooks: number;
  unknownOutcomes: number;
  elapsedMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs one schedule against a fresh relay and judges it. Every process and connection it
 * opened is closed before it returns, whatever happened.
 */
export async function runSchedule(schedule: Schedule, options: RunOptions = {}): Promise<RunResult> {
  const started = Date.now();
  if (schedule.store === 'redis') await options.flushRedis?.();
  const relay = await startRelayUnderTest(schedule.store, schedule.settings, options.redisUrl);
  const model = new Model();
  const run: Run = {
    schedule,
    relay,
    model,
    sender: new WebhookSender(model, relay.url),
    consumers: new GroupConsumers(relay.url, schedule.settings.leaseMs),
    readers: [],
    background: [],
    failures: [],
  };
  const ran: Partial<Record<OpKind, number>> = {};
  try {
    for (const [index, op] of schedule.ops.entries()) {
      try {
        const opStarted = Date.now();
        const applied = await apply(run, op);
        if (applied) ran[op.kind] = (ran[op.kind] ?? 0) + 1;
        options.trace?.(`  #${index} ${describeOp(op)}${applied ? '' : ' (skipped)'}: ${Date.now() - opStarted} ms`);
      } catch (error) {
        run.failures.push(`operation #${index} ${op.kind} threw: ${(error as Error).stack ?? String(error)}`);
        break;
      }
    }
    const verifyStarted = Date.now();
    const verdict = await verifyRun(run, options.trace);
    options.trace?.(`  verify: ${Date.now() - verifyStarted} ms`);
    return {
      ...verdict,
      ran,
      committed: model.size,
      webhooks: run.sender.stats.sent,
      unknownOutcomes: run.sender.stats.unknown,
      elapsedMs: Date.now() - started,
    };
  } finally {
    await Promise.allSettled(run.readers.map((r) => r?.close()));
    await Promise.allSettled(run.background);
    await relay.close();
  }
}

/** Applies one operation; false when it did not apply (its reader absent, no lifetime set, …). */
async function apply(run: Run, op: Op): Promise<boolean> {
  const { relay, sender, consumers, readers, schedule } = run;
  switch (op.kind) {
    case 'send': {
      const sending = sender.sendFresh(op.count, op.concurrency, op.padding, op.salt);
      if (op.background) run.background.push(sending);
      else await sending;
      return true;
    }
    case 'duplicate':
      await sender.sendDuplicates(op.count, op.salt);
      return true;
    case 'trim':
      await trim(run, op.keep);
      return true;
    case 'open': {
      if (readers[op.reader]) return false;
      const start = op.from === 'start' ? LOG_START : run.model.head();
      const filter = op.filter === null ? null : FILTERS[op.filter]!;
      const reader = createReader(op.reader, op.as, filter, start, { url: relay.url, seed: schedule.seed });
      readers[op.reader] = reader;
      reader.start();
      // The connection is already being made: it stays open, unread.
      if (op.stalled) reader.pause();
      return true;
    }
    case 'pause':
    case 'resume':
    case 'cut': {
      const reader = readers[op.reader];
      if (!reader) return false;
      if (op.kind === 'pause') reader.pause();
      else if (op.kind === 'resume') reader.resume();
      else reader.cut();
      return true;
    }
    case 'refuse':
    case 'reject': {
      const reader = readers[op.reader];
      if (!(reader instanceof WebhookReader)) return false;
      if (op.kind === 'refuse') reader.refuse(op.ms);
      else reader.reject(op.ms, op.status);
      return true;
    }
    case 'kill':
    case 'restart': {
      if (!relay.restartable) return false;
      for (const reader of readers) reader?.relayStopping(op.kind);
      if (op.kind === 'kill') await relay.kill();
      else if (!(await relay.stop())) run.failures.push('the relay did not exit within 10 s of SIGTERM (it was killed)');
      await relay.start();
      // Answers lost with the old process: what reached the store is committed.
      await sender.resolveUnknown(relay.store);
      return true;
    }
    case 'rotate':
      if (schedule.settings.lifetimeMs === 0) return false;
      await sleep(schedule.settings.lifetimeMs + 150);
      return true;
    case 'claim':
      await consumers.claim(op.consumer, op.limit, op.filter === null ? null : FILTERS[op.filter]!);
      return true;
    case 'ack':
      await consumers.ack(op.consumer, op.share, op.salt);
      return true;
    case 'expire':
      await sleep(schedule.settings.leaseMs + 100);
      return true;
    case 'settle':
      await sleep(op.ms);
      return true;
  }
}

/**
 * Retention to `keep` events on the store itself (as the relay's timer would), then what it
 * removed: everything below the oldest event left — or, when none is left, everything
 * through the head read after the trim (an append racing the trim would show in the read).
 */
async function trim(run: Run, keep: number): Promise<void> {
  const store = run.relay.store;
  const startedAt = Date.now();
  await store.trim({ maxEvents: keep });
  const head = await store.head();
  const oldest = (await store.read({ after: null, limit: 1 })).events[0];
  if (oldest) run.model.trims.push({ startedAt, below: oldest.id, keep });
  else if (head !== null) run.model.trims.push({ startedAt, through: head, keep });
}
