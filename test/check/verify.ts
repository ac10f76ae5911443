import type { EventLog } from '../../src/log/event-log.js';
import type { GroupConsumers } from './consumers.js';
import { checkGroup } from './group-check.js';
import type { Model } from './model.js';
import type { Reader } from './readers/index.js';
import type { RelayUnderTest } from './relay-under-test.js';
import { CHECK_GROUP } from './relay-under-test.js';
import type { Schedule } from './schedule.js';
import { walkReader } from './walk.js';
import type { WebhookSender } from './webhooks.js';

export interface Verdict {
  failures: string[];
  /** Event frames readers received, and gaps they were told of. */
  delivered: number;
  gaps: number;
  deadLettered: number;
}

/** Everything one schedule works with while it runs, and what is judged when it is done. */
export interface Run {
  schedule: Schedule;
  relay: RelayUnderTest;
  model: Model;
  sender: WebhookSender;
  consumers: GroupConsumers;
  readers: (Reader | undefined)[];
  background: Promise<void>[];
  failures: string[];
}

/** How long readers get to reach the head once the writes are over. */
const CONVERGE_MS = 20_000;

/**
 * The end of a schedule: let everything settle, then judge. Sends finish and every open
 * outcome is resolved, paused readers read again, every reader gets time to reach the
 * head (push readers through heartbeats), the group is drained; then the log is compared
 * with the model, each reader is walked, and the group is checked.
 */
export async function verifyRun(run: Run, trace?: (line: string) => void): Promise<Verdict> {
  const { relay, model, sender, consumers, schedule } = run;
  const failures = [...run.failures];
  let phaseStarted = Date.now();
  const phase = (name: string) => {
    trace?.(`  verify ${name}: ${Date.now() - phaseStarted} ms`);
    phaseStarted = Date.now();
  };
  await Promise.allSettled(run.background);
  phase('sends finished');
  for (const reader of run.readers) reader?.resume();
  for (let attempt = 0; attempt < 5 && model.unresolved().length > 0; attempt++) await sender.resolveUnknown(relay.store);
  if (model.unresolved().length > 0) failures.push(`${model.unresolved().length} webhook outcomes stayed unknown after 5 retries`);
  failures.push(...model.ingestFailures.slice(0, 10));
  failures.push(...(await compareLog(relay.store, model)));
  phase('outcomes resolved, log compared');

  const head = model.head();
  const readers = run.readers.filter((r): r is Reader => r !== undefined);
  // A reader whose position the relay never names is done once it holds the last event it matches.
  const atHead = (r: Reader) => r.position === head || (!r.namesPositions && model.between(r.position, head).every((e) => r.filter !== null && !r.filter.includes(e.type)));
  const deadline = Date.now() + Math.max(CONVERGE_MS, schedule.settings.heartbeatMs * 20);
  while (Date.now() < deadline && !readers.every(atHead)) await new Promise((resolve) => setTimeout(resolve, 50));
  phase('readers at the head');

  const drained = await consumers.drain(relay.store);
  if (drained) failures.push(`group ${CHECK_GROUP}: ${drained}`);
  const dead = new Set(consumers.used ? (await relay.store.deadLetters(CHECK_GROUP, { limit: 10_000 })).map((d) => d.event.id) : []);
  phase('group drained');
  for (const [i, stopped] of (await Promise.all(readers.map((r) => r.close()))).entries()) {
    if (!stopped) failures.push(`${readers[i]!.label} did not stop within 15 s of being closed (checker bug)`);
  }
  phase('readers closed');

  let delivered = 0;
  let gaps = 0;
  for (const reader of readers) {
    const walk = walkReader(reader.observations, reader.filter, model, head, reader.namesPositions);
    delivered += walk.events;
    gaps += walk.gaps;
    for (const failure of walk.failures) failures.push(`${reader.label}, ${reader.connections} connections: ${failure}`);
  }
  for (const failure of checkGroup(consumers, model, dead, schedule.settings.maxDeliveries)) failures.push(`group ${CHECK_GROUP}: ${failure}`);
  return { failures: dedupe(failures), delivered, gaps, deadLettered: dead.size };
}

/**
 * Every event a 2xx answer named is in the log unless retention removed it; the log holds
 * nothing the webhooks did not commit; its head is the model's.
 */
async function compareLog(store: EventLog, model: Model): Promise<string[]> {
  const failures: string[] = [];
  const retained = new Set<string>();
  let after: string | null = null;
  for (let page = 0; page < 1000; page++) {
    const read = await store.read({ after, limit: 10_000 });
    for (const event of read.events) {
      retained.add(event.id);
      if (!model.event(event.id)) failures.push(`the log holds ${event.id} (${event.type}), which no webhook answer or lost answer accounts for`);
    }
    if (!read.hasMore || read.cursor === null) break;
    after = read.cursor;
  }
  const lost = model.sorted().filter((e) => !retained.has(e.id) && !model.isTrimmed(e.id));
  if (lost.length > 0) failures.push(`${lost.length} events answered 2xx are not in the log and were never trimmed: ${lost.slice(0, 5).map((e) => e.id).join(', ')}`);
  const head = (await store.head()) ?? undefined;
  if (model.size > 0 && head !== model.head()) failures.push(`the log's head is ${head}, the last committed event ${model.head()}`);
  return failures.slice(0, 10);
}

function dedupe(lines: string[]): string[] {
  return [...new Set(lines)];
}
