import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LOG_START } from '../src/events/ulid.js';
import type { SerializedEvent } from '../src/log/event-log.js';
import { type Envelope, eventEnvelope } from '../src/outbound/envelopes.js';
import { DeliveryPool, INGEST_SECRET } from './ingest-deliveries.js';
import { BENCH_KEY, buildRelay, startRelayChild } from './modes-relay.js';
import { cpuSeconds } from './proc-stats.js';
import { openStore, preloadStore } from './scale-stores.js';
import { type ServerProcess, startServer } from './server-process.js';
import { formatCount } from './table.js';
import { inTempDir } from './temp-run.js';
import { type OpenLoop, printWebhooksReport, type Side, type Throughput, type WebhookSettings } from './webhooks-report.js';
import { openLoop as publishOpenLoop, schedule, webhookSend } from './open-loop.js';
import { type Arrivals, bareLoop, type BareTarget, collectArrivals, subscribeWebhook } from './webhooks-traffic.js';

/**
 * `npm run bench -- webhooks`: outbound webhook delivery (`events/subscribe`) from a relay on
 * SQLite (`synchronous=full`) to a receiver in its own process, against a bare loop that POSTs
 * the same signed bodies to the same receiver one after another (conventions rule 7):
 *
 * 1. deliveries/s: `--events` already in the log when the subscription starts from the
 *    beginning, timed from the first arrival to the last;
 * 2. latency: webhooks into the relay on an open-loop schedule (`--rate` per second for
 *    `--seconds`), from each one's scheduled send time to its callback's arrival.
 *
 * Then the bare loop does both with the bodies the relay sent. See bench/README.md.
 */

const USAGE = 'usage: webhooks [--events <n>=5000] [--rate <events/s>=200] [--seconds <s>=10]';
/** The subscription's signing secret (any `whsec_` of 24–64 bytes). */
const CALLBACK_SECRET = `whsec_${Buffer.alloc(32, 'webhooks-bench').toString('base64')}`;
const NAME = 'cx_events';
/** How long arrivals may take beyond the phase itself before the run calls them missing. */
const GRACE_MS = 30_000;
const PER_EVENT_GRACE_MS = 20;

export async function run(args: string[]): Promise<void> {
  const settings = parseSettings(args);
  if (settings === undefined) {
    console.log(USAGE);
    return;
  }
  const result = await inTempDir('webhooks', async (dir) => {
    buildRelay();
    return measure(settings, `sqlite:${join(dir, 'relay.db')}`);
  });
  if (printWebhooksReport(settings, result.relay, result.bare, result.problems) > 0) process.exitCode = 1;
}

async function measure(settings: WebhookSettings, store: string): Promise<{ relay: Side; bare: Side; problems: string[] }> {
  const problems: string[] = [];
  const liveCount = Math.round(settings.rate * settings.seconds);
  console.error(`preloading ${formatCount(settings.events)} events and building ${formatCount(liveCount)} signed webhooks…`);
  await preloadStore(store, settings.events);
  const pool = new DeliveryPool(liveCount);
  await pool.build();
  const receiver = await startServer({ name: 'receiver', args: ['--import', 'tsx', 'bench/arrivals-receiver.ts'], env: {} });
  let relayProcess: ServerProcess | undefined;
  try {
    relayProcess = await startRelayChild({ RELAY_STORE: store, RELAY_SQLITE_SYNCHRONOUS: 'full', RELAY_WEBHOOK_ALLOW: 'loopback', STRIPE_WEBHOOK_SECRET: INGEST_SECRET });
    const callbackUrl = `${receiver.url}/hooks/relay`;

    console.error(`relay: delivering a backlog of ${formatCount(settings.events)}`);
    const cpuBefore = cpuSeconds(relayProcess.pid);
    const subscriptionId = await subscribeWebhook(relayProcess.url, BENCH_KEY, callbackUrl, CALLBACK_SECRET, LOG_START);
    const backlogArrivals = await collectArrivals(receiver.url, settings.events, GRACE_MS + settings.events * PER_EVENT_GRACE_MS);
    const cpuAfter = cpuSeconds(relayProcess.pid);
    const relayCpu = cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore;

    console.error(`relay: ${formatCount(settings.rate)} webhooks/s for ${settings.seconds} s, open loop`);
    await pool.sign(Date.now());
    const times = schedule(liveCount, settings.rate);
    const { keys: published } = await publishOpenLoop(times, webhookSend(relayProcess.url, pool));
    const liveArrivals = await collectArrivals(receiver.url, liveCount, GRACE_MS + liveCount * PER_EVENT_GRACE_MS);
    await relayProcess.stop();

    const envelopes = await callbackEnvelopes(store);
    const backlogEnvelopes = envelopes.slice(0, settings.events);
    const liveEnvelopes = envelopes.slice(settings.events);
    const [backlogIds, liveIds] = [backlogEnvelopes.map((e) => e.webhookId), liveEnvelopes.map((e) => e.webhookId)];
    check('relay, backlog', backlogArrivals, backlogIds, problems);
    check('relay, open loop', liveArrivals, liveIds, problems);
    if ([...liveIds].sort().join() !== [...published].sort().join()) problems.push('the log does not hold the published webhooks after the backlog');
    const relay: Side = { backlog: throughput(backlogArrivals, relayCpu), live: openLoop(liveArrivals, published, times) };

    const target: BareTarget = { url: callbackUrl, secret: CALLBACK_SECRET, subscriptionId };
    console.error(`bare loop: POSTing the backlog's ${formatCount(settings.events)} bodies`);
    const loopCpu = process.cpuUsage();
    await bareLoop(target, backlogEnvelopes);
    const bareCpu = process.cpuUsage(loopCpu);
    const bareBacklog = await collectArrivals(receiver.url, settings.events, GRACE_MS);
    console.error(`bare loop: ${formatCount(settings.rate)} POSTs/s for ${settings.seconds} s`);
    const bareTimes = schedule(liveCount, settings.rate);
    await bareLoop(target, liveEnvelopes, bareTimes);
    const bareLive = await collectArrivals(receiver.url, liveCount, GRACE_MS);
    check('bare loop, backlog', bareBacklog, backlogIds, problems);
    check('bare loop, open loop', bareLive, liveIds, problems);
    const bare: Side = { backlog: throughput(bareBacklog, (bareCpu.user + bareCpu.system) / 1e6), live: openLoop(bareLive, liveIds, bareTimes) };
    return { relay, bare, problems };
  } finally {
    await relayProcess?.stop();
    await receiver.stop();
  }
}

/** The callbacks the relay made, rebuilt from its log: the same bytes, in log order. */
async function callbackEnvelopes(store: string): Promise<Envelope[]> {
  const backend = openStore(store);
  try {
    const events: SerializedEvent[] = [];
    let after: string | null = null;
    for (;;) {
      const page = await backend.log.readSerialized({ after, limit: 10_000 });
      events.push(...page.events);
      if (!page.hasMore) break;
      after = page.cursor;
    }
    return events.map((event) => eventEnvelope(NAME, event));
  } finally {
    await backend.close();
  }
}

/** Every expected id arrived once, in order, and nothing else did (no gap or terminated envelope). */
function check(phase: string, arrivals: Arrivals, expected: readonly string[], problems: string[]): void {
  if (arrivals.ids.length < expected.length) problems.push(`${phase}: ${expected.length - arrivals.ids.length} of ${expected.length} callbacks never arrived`);
  else if (arrivals.ids.join() !== expected.join()) problems.push(`${phase}: the arrivals are not the events in log order, each once (${arrivals.ids.length} arrived)`);
}

function throughput(arrivals: Arrivals, senderCpuSeconds: number | undefined): Throughput {
  const n = arrivals.at.length;
  return { delivered: n, seconds: n < 2 ? Number.NaN : (arrivals.at[n - 1]! - arrivals.at[0]!) / 1000, senderCpuSeconds, meanBytes: arrivals.bytes / Math.max(1, n) };
}

function openLoop(arrivals: Arrivals, ids: readonly string[], times: readonly number[]): OpenLoop {
  const arrivedAt = new Map(arrivals.ids.map((id, i) => [id, arrivals.at[i]!]));
  const latenciesMs = ids.flatMap((id, i) => (arrivedAt.has(id) ? [arrivedAt.get(id)! - times[i]!] : []));
  return { latenciesMs };
}

/** The settings, or undefined for `--help`. */
function parseSettings(args: string[]): WebhookSettings | undefined {
  const { values } = parseArgs({
    args,
    options: {
      events: { type: 'string', default: '5000' },
      rate: { type: 'string', default: '200' },
      seconds: { type: 'string', default: '10' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return undefined;
  const settings = { events: Number(values.events), rate: Number(values.rate), seconds: Number(values.seconds) };
  const ok = Number.isInteger(settings.events) && settings.events >= 2 && settings.rate > 0 && settings.rate <= 5000 && settings.seconds > 0 && Math.round(settings.rate * settings.seconds) >= 2;
  if (!ok) throw new Error(USAGE);
  return settings;
}
