#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ConfigError, describeStore, loadConfig } from './config.js';
import { type StatusSettings, formatStatus, statusSettings } from './cli/status-format.js';
import type { ForwardSettings } from './cli/forward-settings.js';
import type { OperatorCommand } from './cli/operator.js';
import type { SendSettings } from './cli/send.js';
import { type TailSettings, formatEvent, formatStart, formatSubscriptionError, tailSettings } from './cli/tail-format.js';
import { sendSample } from './ingest/send-sample.js';
import { createLogger } from './observe/logger.js';
import { SERVE_USAGE, STORE_FORMS } from './cli/serve-usage.js';

const USAGE = `usage: mcp-event-relay <command> [options]

commands:
  serve [--host H] [--port P] [--store ${STORE_FORMS}]
        run the relay; see serve --help
  send <source> <sample> [--fixed] [--payload FILE] [--url URL] [--secret S]
        sign a sample delivery as its provider would and POST it to /webhooks/<source>, a new
        event each time (like \`stripe trigger\`); send --list shows the samples, see send --help

  tail [--mode auto|push|poll|tools] [--types a,b] [--url URL] [--token T] [--json] [--group G]
       [--from ID|TIME]
        print the relay's events live through the companion client, one line each (--json:
        one JSON object per line); the mode and every reconnect go to stderr. The token
        defaults to RELAY_TOKEN, the mode to RELAY_CLIENT_MODE (else auto); tools mode
        acknowledges in the consumer group G (default: your principal's own group). --from
        starts after an event id, or from a time on (ISO 8601, or ago: 30m, 1h, 7d), not now

  forward --to URL [--types a,b] [--sources a,b] [--from CURSOR] [--url URL] [--token T]
          [--secret whsec_…]
        POST the relay's events to an endpoint on your machine, signed as the relay's webhook
        delivery signs them (like \`stripe listen --forward-to\`); see forward --help

  status [--since 1h] [--url URL] [--api-key K] [--json]
        print the running relay's report (GET /status): webhooks received and processed, drop
        rate against its threshold, p50/p95 delivery and p99 processing latency, action success
        rate and the alert if one is raised; --since 15m … 7d (default 1h); the key defaults to
        RELAY_TOKEN

  events list|get, groups list|show|seek|delete, dlq list|requeue|purge, replay
        the operator API from a shell: find events, see and move consumer groups (groups seek
        <group> --to 1h: everything of the last hour again), work dead letters, replay; tables,
        or the API's JSON with --json; writes need an admin; see <command> --help

Every option also reads from the environment (HOST, PORT, RELAY_STORE, …); see README.md.`;

/** How long an exit waits for the log lines still queued for stdout's reader. */
const FLUSH_MS = 250;

/**
 * Exits once stdout has taken the lines queued for it — so the last ones reach a reader whole —
 * or after {@link FLUSH_MS} when nobody reads (a stalled or gone reader never holds the exit).
 */
function exitFlushed(code: number): void {
  setTimeout(() => process.exit(code), FLUSH_MS);
  process.stdout.write('', () => process.exit(code));
}

async function serve(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(SERVE_USAGE);
    return;
  }
  const config = loadConfig(process.env, argv);
  const logger = createLogger(config.logLevel);
  // The log goes to stdout (and stops when its reader is gone); stderr only gets node's own
  // warnings, and a reader that went away must not turn one into a crash.
  process.stderr.on('error', () => undefined);
  // Loaded on demand so commands that only talk to a relay start quickly.
  const { startRelay } = await import('./app.js');
  const relay = await startRelay(config, logger);
  const sources = config.webhooks.sources.filter((s) => s.secrets.length > 0).map((s) => s.name);
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) {
      logger.warn({ signal }, 'second signal: exiting without finishing the shutdown');
      exitFlushed(1);
    }
    closing = true;
    const graceMs = config.shutdownGraceMs;
    logger.info({ signal, graceMs }, 'shutting down');
    // Whatever is still open by then (a handler that never returns, a peer that never answers) is abandoned.
    setTimeout(() => {
      logger.error({ graceMs }, 'shutdown did not finish within RELAY_SHUTDOWN_GRACE: exiting');
      exitFlushed(1);
    }, graceMs);
    relay.close().then(
      () => exitFlushed(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        exitFlushed(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  // Only now say where it listens: a signal sent as soon as the line is read must find the
  // handlers in place (without one, node dies of the signal at once).
  logger.info({ url: relay.url, store: describeStore(config.store), sources }, `mcp-event-relay listening on ${relay.url}`);
  if (sources.length === 0) logger.warn('no webhook source is configured: set STRIPE_WEBHOOK_SECRET, … (see README)');
}

async function send(argv: string[]): Promise<void> {
  const { SEND_USAGE, formatSampleList, sendSettings } = await import('./cli/send.js');
  let settings: SendSettings;
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: {
        url: { type: 'string' },
        secret: { type: 'string' },
        fixed: { type: 'boolean' },
        payload: { type: 'string' },
        list: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
    });
    if (values.help) {
      console.log(SEND_USAGE);
      return;
    }
    const { sources } = loadConfig(process.env).webhooks;
    if (values.list) {
      if (argv.length > 1) throw new Error('--list takes no other arguments');
      console.log(formatSampleList(sources));
      return;
    }
    settings = sendSettings(values, positionals, sources, values.url ?? localUrl());
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new UsageError(`send: ${(error as Error).message} (see mcp-event-relay send --help)`, false);
  }
  const result = await sendSample({ ...settings, nowMs: Date.now() });
  console.log(`${result.status} ${typeof result.body === 'string' ? result.body : JSON.stringify(result.body)}`);
  if (result.status < 200 || result.status > 299) process.exitCode = 1;
}

/** The relay `send` and `tail` talk to by default: HOST and PORT. */
function localUrl(): string {
  const config = loadConfig(process.env);
  return `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
}

async function tail(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { url: { type: 'string' }, token: { type: 'string' }, mode: { type: 'string' }, types: { type: 'string' }, group: { type: 'string' }, json: { type: 'boolean' }, from: { type: 'string' } },
    allowPositionals: true,
  });
  if (positionals.length > 0) throw new UsageError('tail takes no positional arguments');
  let settings: TailSettings;
  try {
    settings = tailSettings(values, process.env, values.url ?? localUrl());
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { createEventClient } = await import('../client/index.js');
  const { tailStart } = await import('./cli/tail-from.js');
  const start = await tailStart(settings);
  if (start?.first) process.stdout.write(`${formatEvent(start.first, settings.json)}\n`);
  const relay = createEventClient({ url: settings.url, token: settings.token, mode: settings.mode });
  const sub = await relay.subscribe({
    filter: settings.types ? { types: settings.types } : {},
    ...(settings.group ? { group: settings.group } : {}),
    ...(start ? { cursor: start.cursor } : {}),
    onEvent: (event) => {
      process.stdout.write(`${formatEvent(event, settings.json)}\n`);
    },
    onError: (error) => {
      console.error(formatSubscriptionError(error));
      if (error.kind === 'fatal') process.exitCode = 1;
    },
  });
  console.error(formatStart(sub.mode, settings.url, settings.types));
  const stop = () => void sub.unsubscribe().then(() => relay.close());
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await sub.closed;
}

async function forward(argv: string[]): Promise<void> {
  const { FORWARD_USAGE, forwardSettings } = await import('./cli/forward-settings.js');
  let settings: ForwardSettings;
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: {
        to: { type: 'string' },
        types: { type: 'string' },
        sources: { type: 'string' },
        from: { type: 'string' },
        url: { type: 'string' },
        token: { type: 'string' },
        secret: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
    });
    if (values.help) {
      console.log(FORWARD_USAGE);
      return;
    }
    if (positionals.length > 0) throw new Error('forward takes no positional arguments');
    settings = forwardSettings(values, process.env, values.url ?? localUrl());
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new UsageError(`forward: ${(error as Error).message} (see mcp-event-relay forward --help)`, false);
  }
  const { forward: run } = await import('./cli/forward.js');
  const stop = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  const output = { line: (text: string) => void process.stdout.write(`${text}\n`), status: (text: string) => console.error(text) };
  process.exitCode = await run(settings, output, stop);
}

async function status(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { since: { type: 'string' }, url: { type: 'string' }, 'api-key': { type: 'string' }, json: { type: 'boolean' } },
    allowPositionals: true,
  });
  if (positionals.length > 0) throw new UsageError('status takes no positional arguments');
  let settings: StatusSettings;
  try {
    settings = statusSettings(values, process.env, values.url ?? localUrl());
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const res = await fetch(settings.url, { headers: settings.apiKey ? { authorization: `Bearer ${settings.apiKey}` } : {} }).catch((error: unknown) => {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(`cannot reach ${new URL(settings.url).origin}: ${cause?.code ?? cause?.message ?? String(error)}`);
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${settings.url} answered ${res.status}: ${text.slice(0, 200)}`);
  process.stdout.write(`${settings.json ? text : formatStatus(JSON.parse(text), settings.since)}\n`);
}

/** A command line that cannot run: its message, then the usage unless the message says where help is. */
class UsageError extends Error {
  constructor(
    message: string,
    readonly withUsage = true,
  ) {
    super(message);
  }
}

/** `events`, `groups`, `dlq`, `replay`: the operator API's commands, which report their own failures. */
async function operate(command: OperatorCommand, argv: string[]): Promise<void> {
  const { runOperator } = await import('./cli/operator.js');
  const io = { env: process.env, defaultUrl: localUrl, out: (text: string) => console.log(text), err: (text: string) => console.error(text), now: Date.now };
  process.exitCode = await runOperator(command, argv, io);
}

const commands: Record<string, (argv: string[]) => Promise<void>> = {
  serve,
  send,
  tail,
  forward,
  status,
  events: (argv) => operate('events', argv),
  groups: (argv) => operate('groups', argv),
  dlq: (argv) => operate('dlq', argv),
  replay: (argv) => operate('replay', argv),
};

async function main(): Promise<void> {
  const [name, ...argv] = process.argv.slice(2);
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return;
  }
  const command = commands[name];
  if (!command) {
    console.error(`mcp-event-relay: unknown command "${name}"\n\n${USAGE}`);
    process.exit(2);
  }
  await command(argv);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(`mcp-event-relay: invalid configuration: ${error.message}`);
    process.exit(2);
  }
  if (error instanceof UsageError && !error.withUsage) {
    console.error(`mcp-event-relay: ${error.message}`);
    process.exit(2);
  }
  if (error instanceof UsageError || (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
    console.error(`mcp-event-relay: ${error.message}\n\n${USAGE}`);
    process.exit(2);
  }
  console.error(`mcp-event-relay: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
