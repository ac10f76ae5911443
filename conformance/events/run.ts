/**
 * `npm run conformance:events -- --url <mcp endpoint> [options]`: the Events extension's
 * conformance suite, for any server that speaks it. It uses only the wire (JSON-RPC over
 * Streamable HTTP, either protocol era) and prints one line per check — pass, FAIL, warn or
 * skip, with the sentence of the draft the check enforces — then a summary. Exit 0 when no
 * MUST or SHOULD check failed (and no advice check under `--strict`), 1 otherwise, 2 on bad
 * options. See README.md for the options and the trigger convention.
 */
import { parseArgs } from 'node:util';
import { capability } from './scenarios/capability.js';
import { errors } from './scenarios/errors.js';
import { list, listAll } from './scenarios/list.js';
import { longPoll } from './scenarios/long-poll.js';
import { pollScenario } from './scenarios/poll.js';
import { replay } from './scenarios/replay.js';
import { serverEnd } from './scenarios/server-end.js';
import { stream } from './scenarios/stream.js';
import { webhook } from './scenarios/webhook.js';
import { webhookErrors } from './scenarios/webhook-errors.js';
import { type Context, EVENTS_CAPABILITIES, type Json, Report, type Result, type Scenario, type SuiteOptions, runTrigger, show, wireOptions } from './suite.js';
import { Connection, ERAS, type Era } from './wire.js';

/** In run order; `errors` last, because it may exhaust the server's stream budget. */
const SCENARIOS: Scenario[] = [capability, list, pollScenario, longPoll, replay, stream, serverEnd, webhook, webhookErrors, errors];

const USAGE = `usage: npm run conformance:events -- --url <mcp endpoint> [options]
  --token <bearer>             sent as Authorization: Bearer
  --era 2025-11-25|2026-07-28  the wire to speak (default 2026-07-28)
  --event <name>               the event type under test (default: the first listed with poll and push)
  --arguments <json>           its subscription arguments (default none)
  --trigger <command or URL>   makes the server produce exactly one new event of that subscription per run:
                               a URL is POSTed {name, arguments, seq} and must answer 2xx; a command runs
                               under sh with EVENTS_NAME, EVENTS_ARGUMENTS, EVENTS_SEQ and must exit 0
  --stale-cursor <cursor>      a cursor the server can no longer serve from (checks truncated)
  --heartbeat-within <ms>      how long to wait for a heartbeat (default 35000: the draft's 30 s and slack)
  --long-poll-ms <ms>          timeoutMs of the idle long poll (default 1500)
  --exhaust-streams <n>        open up to n streams to reach a limit (checks -32013; default 0: skip)
  --stream-ends-within <ms>    the server ends a stream by itself within this (checks the end; default: skip)
  --only <scenario,...>        run only these (${SCENARIOS.map((s) => s.name).join(', ')})
  --strict                     advice checks fail the run too`;

function options(): { suite: SuiteOptions; only: string[] | undefined } {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      token: { type: 'string' },
      era: { type: 'string', default: '2026-07-28' },
      event: { type: 'string' },
      arguments: { type: 'string' },
      trigger: { type: 'string' },
      'stale-cursor': { type: 'string' },
      'heartbeat-within': { type: 'string', default: '35000' },
      'long-poll-ms': { type: 'string', default: '1500' },
      'exhaust-streams': { type: 'string', default: '0' },
      'stream-ends-within': { type: 'string' },
      only: { type: 'string' },
      strict: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.url) throw new UsageError(values.help ? '' : '--url is required');
  if (!(ERAS as readonly string[]).includes(values.era!)) throw new UsageError(`--era must be one of ${ERAS.join(', ')}`);
  const ms = (name: string, text: string | undefined) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a whole number`);
    return n;
  };
  let args: Json | undefined;
  if (values.arguments !== undefined) {
    try {
      args = JSON.parse(values.arguments) as Json;
    } catch {
      throw new UsageError('--arguments must be a JSON object');
    }
  }
  const only = values.only?.split(',').map((s) => s.trim());
  for (const name of only ?? []) if (!SCENARIOS.some((s) => s.name === name)) throw new UsageError(`--only: no scenario "${name}"`);
  return {
    only,
    suite: {
      url: values.url,
      token: values.token,
      era: values.era as Era,
      trigger: values.trigger,
      event: values.event,
      arguments: args,
      staleCursor: values['stale-cursor'],
      heartbeatWithinMs: ms('heartbeat-within', values['heartbeat-within']),
      longPollMs: ms('long-poll-ms', values['long-poll-ms']),
      exhaustStreams: ms('exhaust-streams', values['exhaust-streams']),
      streamEndsWithinMs: values['stream-ends-within'] === undefined ? undefined : ms('stream-ends-within', values['stream-ends-within']),
      strict: values.strict!,
    },
  };
}

class UsageError extends Error {}

async function context(suite: SuiteOptions): Promise<Context> {
  const connect = (capabilities: Json = EVENTS_CAPABILITIES) => Connection.open(wireOptions(suite, capabilities));
  const connection = await connect();
  let name = suite.event;
  if (name === undefined) {
    const { types, problem } = await listAll(async (params) => (await connection.request('events/list', params)).message?.result);
    const usable = types.find((t) => Array.isArray(t.delivery) && t.delivery.includes('poll') && t.delivery.includes('push'));
    if (!usable) throw new Error(`no event type lists both poll and push delivery (${problem ?? show(types.map((t) => [t.name, t.delivery]))}); pass --event`);
    name = usable.name as string;
  }
  const subscription = { name, arguments: suite.arguments };
  const trigger = suite.trigger;
  return {
    options: suite,
    connection,
    connect,
    subscription,
    canTrigger: trigger !== undefined,
    trigger: () => (trigger === undefined ? Promise.reject(new Error('no --trigger')) : runTrigger(trigger, subscription, suite)),
  };
}

function print(result: Result): void {
  const { rule, outcome, detail } = result;
  console.log(`  ${outcome.padEnd(4)}  ${rule.id} [${rule.level.toUpperCase()}]${detail ? ` — ${detail}` : ''}`);
  console.log(`          “${rule.quote}” (${rule.source ?? ''})`);
}

async function main(): Promise<number> {
  let parsed: ReturnType<typeof options>;
  try {
    parsed = options();
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${error.message ? `${error.message}\n` : ''}${USAGE}`);
    return error.message ? 2 : 0;
  }
  const { suite, only } = parsed;
  const started = Date.now();
  const ctx = await context(suite);
  console.log(`events conformance against ${suite.url}, ${suite.era} wire, event type ${ctx.subscription.name}${ctx.canTrigger ? '' : ' (no --trigger: checks that need events are skipped)'}`);
  const results: Result[] = [];
  for (const scenario of SCENARIOS.filter((s) => !only || only.includes(s.name))) {
    const report = new Report(scenario.name, suite.strict);
    const t0 = Date.now();
    let crash: unknown;
    try {
      await scenario.run(ctx, report);
    } catch (error) {
      crash = error;
    }
    for (const rule of scenario.rules) {
      if (!report.has(rule)) report.check(rule, false, `not reached: ${crash instanceof Error ? crash.message : String(crash)}`);
    }
    console.log(`\n${scenario.name} — ${scenario.title} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    for (const result of report.results) print(result);
    results.push(...report.results);
  }
  await ctx.connection.close();
  const count = (outcome: string) => results.filter((r) => r.outcome === outcome).length;
  const failed = count('FAIL');
  console.log(
    `\nsummary (${suite.era}): ${results.length} checks — ${count('pass')} passed, ${failed} failed, ${count('warn')} warnings (advice), ${count('skip')} skipped — ` +
      `${failed === 0 ? 'OK' : 'FAILED'} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
  );
  if (failed > 0) console.log(`failed: ${results.filter((r) => r.outcome === 'FAIL').map((r) => `${r.scenario}/${r.rule.id}`).join(', ')}`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('conformance:events:', error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
