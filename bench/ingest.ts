import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon, { type RawResult } from 'autocannon';
import Database from 'better-sqlite3';
import { Cursor, DeliveryPool, INGEST_SECRET } from './ingest-deliveries.js';
import { describeMachine } from './machine.js';
import { killServers, type ServerProcess, startServer } from './server-process.js';
import { formatCount, formatRatio, formatSeconds, formatTable } from './table.js';

/**
 * `npm run bench -- ingest`: verified + deduplicated + durable webhooks/s over loopback HTTP,
 * against a bare `node:http` server measured in the same run with the same load generator
 * (conventions rule 7). Every server runs in its own child process; autocannon runs here.
 * See bench/README.md.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ROUTE = '/webhooks/stripe';
/** The relay only answers 200 once it has a body like this one. */
const ACCEPTED = '"duplicate":false';
const BARE_OK = '{"ok":true}';
/** Warm-up and timed run both stop on a sample tick, so a short interval keeps them on time. */
const SAMPLE_MS = 100;
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

interface ServerSpec {
  name: string;
  kind: 'bare' | 'relay';
  /** Node arguments, from the repository root. */
  args: string[];
  env: Record<string, string>;
  /** The relay's SQLite file, counted after the run. */
  sqlitePath?: string;
}

/** Where each side runs: the server on one core, the load generator on another. */
interface Pinning {
  server: string;
  client: string;
}

/** Children still running, killed on Ctrl-C or exit whatever happens. */

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
  const contenders: Contender[] = [];
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
    console.log(`         ${formatCount(pool.size)} signed before the runs, handed out in turn by setupRequest (only the bare server may wrap around)`);
    console.log(
      `load: autocannon ${autocannonVersion()} in the bench process, ${settings.connections} connections, no pipelining; ` +
        `per server ${settings.warmup} s warm-up, then ${settings.seconds} s timed in ${settings.rounds} interleaved slices`,
    );
    console.log(
      pinning
        ? `cores: each server in its own child process pinned to CPU ${pinning.server}, the load generator pinned to CPU ${pinning.client} (taskset)`
        : `cores: each server in its own child process, the load generator in this one; not pinned (${os.availableParallelism() < 2 ? 'one core' : 'no taskset'})`,
    );
    console.log('');

    for (const spec of serverSpecs(dir, settings)) {
      console.error(`${spec.name}: starting`);
      const server = await startServer({ ...spec, cpu: pinning?.server });
      contenders.push({ spec, server, cursor: pool.cursor(), slices: [], usage: { server: 0, client: 0, wall: 0 } });
    }
    await pool.sign(Date.now());
    for (const contender of contenders) {
      console.error(`${contender.spec.name}: warm-up ${settings.warmup} s`);
      contender.warmup = await load(contender, settings, settings.warmup);
    }
    const slice = settings.seconds / settings.rounds;
    for (let round = 0; round < settings.rounds; round++) {
      // Rotate the order so no server always runs right after the same neighbour.
      for (let k = 0; k < contenders.length; k++) {
        const contender = contenders[(k + round) % contenders.length]!;
        await pool.signIfStale(Date.now());
        const result = await timeSlice(contender, settings, slice);
        console.error(
          `round ${round + 1}/${settings.rounds}: ${contender.spec.name} ${formatCount(result.totalCompletedRequests / result.duration)} req/s`,
        );
      }
    }
    for (const contender of contenders) {
      // The first delivery again: the relay must answer that it already has it.
      if (contender.spec.kind === 'relay') contender.resent = await resend(contender.server.url, pool.delivery(0));
    }
    await Promise.all(contenders.map((c) => c.server.stop()));
    rows = contenders.map((c) => summarize(c, pool));
  } finally {
    await Promise.all(contenders.map((c) => c.server.stop()));
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
  const relay = (name: string, store: string, synchronous: 'full' | 'normal', sqlitePath?: string): ServerSpec => {
    // One directory per relay: the main thread and tsx's loader thread each write a profile.
    const profile = settings.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${join(settings.cpuProf, `relay-${name.replace(/\W+/g, '-')}`)}`] : [];
    return {
      name: `relay (${name})`,
      kind: 'relay',
      args: [...profile, '--import', 'tsx', 'src/cli.ts', 'serve'],
      env: {
        RELAY_STORE: store,
        RELAY_SQLITE_SYNCHRONOUS: synchronous,
        // Per-webhook info lines would measure the logger.
        RELAY_LOG_LEVEL: 'warn',
        STRIPE_WEBHOOK_SECRET: INGEST_SECRET,
      },
      ...(sqlitePath ? { sqlitePath } : {}),
    };
  };
  if (settings.cpuProf) mkdirSync(settings.cpuProf, { recursive: true });
  const full = join(dir, 'relay-full.db');
  const normal = join(dir, 'relay-normal.db');
  return [
    { name: 'bare node:http', kind: 'bare', args: ['--import', 'tsx', 'bench/bare-http-server.ts'], env: {} },
    relay('sqlite full', `sqlite:${full}`, 'full', full),
    relay('sqlite normal', `sqlite:${normal}`, 'normal', normal),
    relay('memory', 'memory', 'full'),
  ];
}

/** One server under measurement, with what it has been measured doing so far. */
interface Contender {
  spec: ServerSpec;
  server: ServerProcess;
  cursor: Cursor;
  warmup?: RawResult;
  slices: RawResult[];
  /** Seconds summed over the timed slices: CPU of the server and of this process, and wall clock. */
  usage: { server: number | undefined; client: number; wall: number };
  /** The relay's answer to a delivery sent again after the runs. */
  resent?: string;
}

function load(contender: Contender, settings: Settings, seconds: number): PromiseLike<RawResult> {
  const relay = contender.spec.kind === 'relay';
  return autocannon({
    url: contender.server.url,
    connections: settings.connections,
    pipelining: 1,
    duration: seconds,
    sampleInt: SAMPLE_MS,
    requests: [{ method: 'POST', path: ROUTE, setupRequest: contender.cursor.setup }],
    // Every body is checked: a cheap substring test, the same cost for every server.
    verifyBody: relay ? (body) => body.includes(ACCEPTED) : (body) => body === BARE_OK,
    skipAggregateResult: true,
  });
}

async function timeSlice(contender: Contender, settings: Settings, seconds: number): Promise<RawResult> {
  const { server, usage } = contender;
  const serverBefore = cpuSeconds(server.pid);
  const clientBefore = process.cpuUsage();
  const wallBefore = performance.now();
  const result = await load(contender, settings, seconds);
  usage.wall += (performance.now() - wallBefore) / 1000;
  const client = process.cpuUsage(clientBefore);
  usage.client += (client.user + client.system) / 1e6;
  const serverAfter = cpuSeconds(server.pid);
  usage.server = usage.server !== undefined && serverBefore !== undefined && serverAfter !== undefined ? usage.server + serverAfter - serverBefore : undefined;
  contender.slices.push(result);
  return result;
}

interface Row {
  spec: ServerSpec;
  requests: number;
  seconds: number;
  p50: number;
  p99: number;
  /** Share of one core used during the timed slices; undefined without /proc. */
  serverCpu: number | undefined;
  /** Server CPU seconds per completed request: what one request costs, whoever limits the rate. */
  serverCpuPerRequest: number | undefined;
  clientCpu: number;
  checks: string[];
}

function summarize(contender: Contender, pool: DeliveryPool): Row {
  const { spec, slices, warmup, usage, cursor } = contender;
  const all = warmup ? [warmup, ...slices] : slices;
  const sum = (pick: (r: RawResult) => number, results = all) => results.reduce((total, r) => total + pick(r), 0);
  const checks: string[] = [];
  const codes = [...new Set(all.flatMap((r) => Object.keys(r.statusCodeStats)))].join(', ');
  const problems = [
    sum((r) => r.errors) > 0 && `${sum((r) => r.errors)} errors`,
    sum((r) => r.timeouts) > 0 && `${sum((r) => r.timeouts)} timeouts`,
    sum((r) => r.non2xx) > 0 && `${sum((r) => r.non2xx)} non-2xx (status ${codes})`,
    sum((r) => r.mismatches) > 0 && `${sum((r) => r.mismatches)} bodies without ${spec.kind === 'relay' ? ACCEPTED : BARE_OK}`,
  ].filter((p): p is string => typeof p === 'string');
  const answered = sum((r) => r['2xx']);
  const expected = spec.kind === 'relay' ? `200 with ${ACCEPTED}` : `200 ${BARE_OK}`;
  checks.push(
    problems.length > 0
      ? `FAILED: ${problems.join(', ')}`
      : `${formatCount(answered)} responses (warm-up + timed), all ${expected}; no errors or timeouts`,
  );
  if (spec.kind === 'relay') {
    if (cursor.wrapped) checks.push(`FAILED: the ${formatCount(pool.size)} distinct deliveries ran out; raise --pool`);
    const resent = contender.resent ?? 'nothing';
    checks.push(
      resent.startsWith('200 ') && resent.includes('"duplicate":true')
        ? 'the first delivery sent again: 200 "duplicate":true'
        : `FAILED: the first delivery sent again answered ${resent}, not 200 "duplicate":true`,
    );
  }
  if (spec.sqlitePath) {
    const stored = countEvents(spec.sqlitePath);
    // A request in flight when a run stops may be committed without its answer being counted.
    const ok = stored >= answered && stored <= cursor.handedOut;
    checks.push(
      `${ok ? '' : 'FAILED: '}${formatCount(stored)} events in the SQLite file for ${formatCount(answered)} answered 200 ` +
        `and ${formatCount(cursor.handedOut)} sent`,
    );
  }
  const latency = autocannon.aggregateResult(slices, { url: contender.server.url }).latency;
  const requests = sum((r) => r.totalCompletedRequests, slices);
  return {
    spec,
    requests,
    seconds: sum((r) => r.duration, slices),
    p50: latency.p50,
    p99: latency.p99,
    serverCpu: usage.server === undefined ? undefined : usage.server / usage.wall,
    serverCpuPerRequest: usage.server === undefined ? undefined : usage.server / requests,
    clientCpu: usage.client / usage.wall,
    checks,
  };
}

async function resend(url: string, delivery: { headers: Record<string, string>; body: Buffer }): Promise<string> {
  const { 'Content-Length': _length, ...headers } = delivery.headers;
  const response = await fetch(`${url}${ROUTE}`, { method: 'POST', headers, body: delivery.body });
  return `${response.status} ${await response.text()}`;
}

function countEvents(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT count(*) FROM events').pluck().get() as number;
  } finally {
    db.close();
  }
}

/**
 * On two cores or more, with taskset, pins every thread of this process (the load generator)
 * to CPU 1; servers start on CPU 0. Without pinning the scheduler may put both on one core.
 */
function pinLoadGenerator(): Pinning | undefined {
  if (os.platform() !== 'linux' || os.availableParallelism() < 2) return undefined;
  try {
    execFileSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
    return { server: '0', client: '1' };
  } catch {
    return undefined;
  }
}

let clockTicks: number | undefined;

/** CPU seconds (user + system, all threads) a process has used, from /proc; Linux only. */
function cpuSeconds(pid: number): number | undefined {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return undefined;
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  // Fields after the parenthesized command name: state is field 3, utime 14, stime 15.
  const text = readFileSync(stat, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / clockTicks;
}

function autocannonVersion(): string {
  const path = join(ROOT, 'node_modules', 'autocannon', 'package.json');
  return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
}

function rate(row: Row): number {
  return row.requests / row.seconds;
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
