import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DeliveryPool } from './ingest-deliveries.js';
import { BARE_HTTP, measureIngest, rate, RECEIVER_HTTP, relaySpec, ROUTE, type Row, type ServerSpec } from './ingest-runner.js';
import { describeMachine } from './machine.js';
import { pinLoadGenerator } from './proc-stats.js';
import { killServers } from './server-process.js';
import { formatCount, formatRatio, formatSeconds, formatTable } from './table.js';

/**
 * `npm run bench -- ingest`: verified + deduplicated + durable webhooks/s over loopback HTTP,
 * against a bare `node:http` server measured in the same run with the same load generator
 * (conventions rule 7). Every server runs in its own child process; autocannon runs here.
 * See bench/README.md.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Rate the default pool is sized for: distinct deliveries per second of warm-up + timed run. */
const POOL_RATE = 15_000;

interface Settings {
  /** Timed seconds per server, split into `rounds` slices. */
  seconds: number;
  warmup: number;
  rounds: number;
  connections: number;
  pool: number;
  /** Where to write `--cpu-prof` profiles of each relay child, if anywhere. */
  cpuProf: string | undefined;
}

export async function run(args: string[]): Promise<void> {
  const settings = parseSettings(args);
  const dir = mkdtempSync(join(os.tmpdir(), 'mcp-event-relay-bench-ingest-'));
  const cleanUp = () => {
    killServers();
    rmSync(dir, { recursive: true, force: true });
  };
  const onSigint = () => {
    cleanUp();
    process.exit(130);
  };
  const onExit = () => {
    killServers();
  };
  process.once('SIGINT', onSigint);
  process.once('exit', onExit);

  // Before pinning: once pinned, this process only sees one core.
  const machine = describeMachine();
  const pinning = pinLoadGenerator();
  const pool = new DeliveryPool(settings.pool);
  let rows: Row[];
  try {
    console.error(`building ${formatCount(pool.size)} distinct deliveries…`);
    await pool.build();
    console.log('# ingest benchmark');
    for (const line of machine) console.log(line);
    console.log(
      `request: POST ${ROUTE}, a distinct Stripe payment_intent.payment_failed each (unique id), ` +
        `${formatCount(pool.meanBytes)} bytes mean, Stripe-Signature with a fresh timestamp;`,
    );
    console.log(`         ${formatCount(pool.size)} signed before the runs, handed out in turn by setupRequest (only the bare and reference servers may wrap around)`);
    console.log(
      `load: autocannon ${autocannonVersion()} in the bench process, ${settings.connections} connections, no pipelining; ` +
        `per server ${settings.warmup} s warm-up, then ${settings.seconds} s timed in ${settings.rounds} interleaved slices`,
    );
    console.log('relays: the command `npm start` runs (node flags included), on the compiled JavaScript built at the start of this run, RELAY_REACTIONS=off (ingest alone)');
    console.log(
      pinning
        ? `cores: each server in its own child process pinned to CPU ${pinning.server}, the load generator pinned to CPU ${pinning.client} (taskset)`
        : `cores: each server in its own child process, the load generator in this one; not pinned (${os.availableParallelism() < 2 ? 'one core' : 'no taskset'})`,
    );
    console.log('');

    rows = await measureIngest(serverSpecs(dir, settings), settings, pool, pinning?.server);
  } finally {
    process.off('SIGINT', onSigint);
    process.off('exit', onExit);
    cleanUp();
  }
  printReport(rows, settings);
}

function parseSettings(args: string[]): Settings {
  const { values } = parseArgs({
    args,
    options: {
      seconds: { type: 'string', default: '8' },
      warmup: { type: 'string', default: '2' },
      rounds: { type: 'string', default: '4' },
      connections: { type: 'string', default: '50' },
      pool: { type: 'string' },
      'cpu-prof': { type: 'string' },
    },
  });
  const seconds = Number(values.seconds);
  const warmup = Number(values.warmup);
  const rounds = Number(values.rounds);
  const connections = Number(values.connections);
  const pool = values.pool === undefined ? Math.ceil(POOL_RATE * (seconds + warmup)) : Number(values.pool);
  if (
    !(seconds > 0) ||
    !(warmup > 0) ||
    !Number.isInteger(rounds) ||
    rounds < 1 ||
    !Number.isInteger(connections) ||
    connections < 1 ||
    !Number.isInteger(pool) ||
    pool < connections * 10
  ) {
    throw new Error(
      'usage: ingest [--seconds <s>=8] [--warmup <s>=2] [--rounds <n>=4] [--connections <n>=50] ' +
        `[--pool <distinct requests>=${POOL_RATE}×(warmup+seconds)] [--cpu-prof <dir>]`,
    );
  }
  const cpuProf = values['cpu-prof'] === undefined ? undefined : resolve(values['cpu-prof']);
  return { seconds, warmup, rounds, connections, pool, cpuProf };
}

function serverSpecs(dir: string, settings: Settings): ServerSpec[] {
  // One directory per relay, named after it.
  const profile = (name: string) => (settings.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${join(settings.cpuProf, `relay-${name.replace(/\W+/g, '-')}`)}`] : []);
  if (settings.cpuProf) mkdirSync(settings.cpuProf, { recursive: true });
  const full = join(dir, 'relay-full.db');
  const normal = join(dir, 'relay-normal.db');
  return [
    BARE_HTTP,
    RECEIVER_HTTP,
    relaySpec('sqlite full', `sqlite:${full}`, { synchronous: 'full', sqlitePath: full, nodeArgs: profile('sqlite full') }),
    relaySpec('sqlite normal', `sqlite:${normal}`, { synchronous: 'normal', sqlitePath: normal, nodeArgs: profile('sqlite normal') }),
    relaySpec('memory', 'memory', { nodeArgs: profile('memory') }),
  ];
}

function autocannonVersion(): string {
  const path = join(ROOT, 'node_modules', 'autocannon', 'package.json');
  return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
}

function percent(share: number | undefined): string {
  return share === undefined ? '–' : `${Math.round(share * 100)} %`;
}

function microseconds(seconds: number | undefined): string {
  return seconds === undefined ? '–' : `${formatCount(seconds * 1e6)} µs`;
}

/** autocannon's latencies are whole milliseconds, finer below 1 ms. */
function formatMs(ms: number): string {
  return Number.isInteger(ms) ? String(ms) : ms.toFixed(2);
}

function printReport(rows: Row[], settings: Settings): void {
  const bare = rows.find((r) => r.spec.kind === 'bare');
  const bareRate = bare ? rate(bare) : Number.NaN;
  const table = formatTable(
    [
      { header: 'server' },
      { header: 'requests', align: 'right' },
      { header: 'seconds', align: 'right' },
      { header: 'req/s', align: 'right' },
      { header: 'p50 ms', align: 'right' },
      { header: 'p99 ms', align: 'right' },
      { header: 'ratio vs bare', align: 'right' },
      { header: 'server CPU', align: 'right' },
      { header: 'server CPU/req', align: 'right' },
      { header: 'client CPU', align: 'right' },
    ],
    rows.map((r) => [
      r.spec.name,
      formatCount(r.requests),
      formatSeconds(r.seconds),
      formatCount(rate(r)),
      formatMs(r.p50),
      formatMs(r.p99),
      r === bare ? 'baseline' : formatRatio(rate(r) / bareRate),
      percent(r.serverCpu),
      microseconds(r.serverCpuPerRequest),
      percent(r.clientCpu),
    ]),
  );
  console.log(table);
  console.log('');
  console.log(`ratio: req/s ÷ bare node:http req/s. CPU: share of one core during the server's ${settings.seconds} s of timed slices;`);
  console.log("     CPU/req: the server's CPU time (user + system) per answered request.");
  console.log('checks (every response body is verified):');
  for (const row of rows) for (const check of row.checks) console.log(`  ${row.spec.name}: ${check}`);
  console.log('');

  const durable = rows.find((r) => r.spec.name === 'relay (sqlite full)');
  if (durable && bare) {
    const ratio = rate(durable) / bareRate;
    console.log(`relay (sqlite full) ≥ 50 % of bare: ${ratio >= 0.5 ? 'yes' : 'no'} (${formatRatio(ratio)})`);
    const reference = rows.find((r) => r.spec.kind === 'reference');
    if (reference) {
      console.log(
        `ceiling: ${reference.spec.name} reaches ${formatRatio(rate(reference) / bareRate)}; ` +
          'the rest of the gap is the log, dedup, the durable commit and observability',
      );
    }
    if (durable.serverCpuPerRequest !== undefined && bare.serverCpuPerRequest !== undefined) {
      // Load-independent: holds even when the load generator, not the server, limits the bare row.
      const cost = bare.serverCpuPerRequest / durable.serverCpuPerRequest;
      console.log(
        `by server CPU per request: relay (sqlite full) ${microseconds(durable.serverCpuPerRequest)}, ` +
          `bare ${microseconds(bare.serverCpuPerRequest)} (${formatRatio(cost)})`,
      );
    }
  }
  const failed = rows.flatMap((r) => r.checks.filter((c) => c.startsWith('FAILED')).map((c) => `${r.spec.name}: ${c}`));
  if (failed.length > 0) throw new Error(`ingest benchmark checks failed:\n${failed.join('\n')}`);
}
