import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import autocannon, { type RawResult } from 'autocannon';
import Database from 'better-sqlite3';
import { type Cursor, type DeliveryPool, INGEST_SECRET } from './ingest-deliveries.js';
import { cpuSeconds } from './proc-stats.js';
import { type ServerProcess, startServer } from './server-process.js';
import { formatCount } from './table.js';

/**
 * Webhooks/s over loopback HTTP, measured by autocannon in this process against servers in
 * child processes, interleaved: what `ingest` reports, and the ingest rows of `scale`.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The node flags `npm start` passes (package.json `scripts.start`), so relays run as it runs them. */
export function startNodeFlags(): string[] {
  const start = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } }).scripts.start;
  return start.split(/\s+/).filter((word) => word.startsWith('--'));
}
export const ROUTE = '/webhooks/stripe';
/** The relay only answers 200 once it has a body like this one. */
const ACCEPTED = '"duplicate":false';
const BARE_OK = '{"ok":true}';
/** Warm-up and timed run both stop on a sample tick, so a short interval keeps them on time. */
const SAMPLE_MS = 100;

export interface IngestLoad {
  /** Timed seconds per server, split into `rounds` slices. */
  seconds: number;
  warmup: number;
  rounds: number;
  connections: number;
}

export interface ServerSpec {
  name: string;
  /** `reference`: a yardstick row, answered and checked like the bare server. */
  kind: 'bare' | 'reference' | 'relay';
  /** Node arguments, from the repository root. */
  args: string[];
  env: Record<string, string>;
  /** The relay's SQLite file, counted after the run. */
  sqlitePath?: string;
}

/** The baseline: `bench/bare-http-server.ts`. */
export const BARE_HTTP: ServerSpec = { name: 'bare node:http', kind: 'bare', args: ['--import', 'tsx', 'bench/bare-http-server.ts'], env: {} };
/** The bare server plus the relay's receiver, nothing after it: `bench/receiver-http-server.ts`. */
export const RECEIVER_HTTP: ServerSpec = { name: 'bare + receiver, no log', kind: 'reference', args: ['--import', 'tsx', 'bench/receiver-http-server.ts'], env: {} };

/**
 * A relay on `RELAY_STORE=<store>` that accepts the pool's Stripe deliveries; `nodeArgs` go
 * before the script. It runs as `npm start` runs it: the compiled JavaScript, which
 * {@link measureIngest} builds first.
 */
export function relaySpec(name: string, store: string, options: { synchronous?: 'full' | 'normal'; sqlitePath?: string; nodeArgs?: string[] } = {}): ServerSpec {
  return {
    name: `relay (${name})`,
    kind: 'relay',
    args: [...startNodeFlags(), ...(options.nodeArgs ?? []), 'dist/src/cli.js', 'serve'],
    env: {
      RELAY_STORE: store,
      RELAY_SQLITE_SYNCHRONOUS: options.synchronous ?? 'full',
      // Per-webhook info lines would measure the logger.
      RELAY_LOG_LEVEL: 'warn',
      // Ingest alone: the reactions would react to every payment_failed and append an event of their own.
      RELAY_REACTIONS: 'off',
      STRIPE_WEBHOOK_SECRET: INGEST_SECRET,
    },
    ...(options.sqlitePath ? { sqlitePath: options.sqlitePath } : {}),
  };
}

/** `npm run build`, as `npm start` does first; its output goes to stderr, away from the report. */
export function buildRelay(): void {
  console.error('building the relay (npm run build)…');
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 2, 2] });
}

/**
 * Starts every server (pinned to `cpu`), warms each up, then loads them in `rounds`
 * interleaved slices; afterwards sends the first delivery again to every relay. Stops the
 * servers before it returns.
 */
export async function measureIngest(specs: readonly ServerSpec[], settings: IngestLoad, pool: DeliveryPool, cpu: string | undefined): Promise<Row[]> {
  const contenders: Contender[] = [];
  if (specs.some((spec) => spec.kind === 'relay')) buildRelay();
  try {
    for (const spec of specs) {
      console.error(`${spec.name}: starting`);
      const server = await startServer({ ...spec, cpu });
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
    return contenders.map((c) => summarize(c, pool));
  } finally {
    await Promise.all(contenders.map((c) => c.server.stop()));
  }
}

export function rate(row: Row): number {
  return row.requests / row.seconds;
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

function load(contender: Contender, settings: IngestLoad, seconds: number): PromiseLike<RawResult> {
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

async function timeSlice(contender: Contender, settings: IngestLoad, seconds: number): Promise<RawResult> {
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

export interface Row {
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
