import type { DeliveryPool } from './ingest-deliveries.js';
import { cpuSeconds, rssBytes } from './proc-stats.js';
import { webhookPublisher } from './scale-fanout.js';
import type { ServerProcess } from './server-process.js';
import { formatCount } from './table.js';

/**
 * The commit-cost part of `scale`: webhook latency on a relay holding many consumer group
 * names and idle 2025-11-25 sessions (a tenth of them subscribed to a resource), beside the
 * same relay holding none, in interleaved slices. What a commit costs should depend on who
 * listens, not on how many names and sessions exist.
 */

export interface CommitSettings {
  /** Group names created by claims, spread evenly over {@link PRINCIPALS} principals. */
  groups: number;
  /** Idle 2025-11-25 sessions, spread the same way. */
  sessions: number;
  /** Timed webhooks per relay, split into `rounds` slices. */
  events: number;
  warmupEvents: number;
  rounds: number;
}

export interface CommitRow {
  name: string;
  kind: 'bare' | 'state';
  webhooks: number;
  /** Summed duration of the slices. */
  seconds: number;
  /** Per webhook, ms from its request to its answer. */
  latencies: Float64Array;
  serverCpuSeconds: number | undefined;
  /** Resident memory of the relay after its slices. */
  rssBytes: number | undefined;
}

export interface CommitTarget {
  name: string;
  kind: 'bare' | 'state';
  server: ServerProcess;
}

/**
 * Principals the state is spread over, each within the relay's default bounds (256 group
 * names, 64 sessions per principal): the benchmark raises no limit.
 */
export const PRINCIPALS = 100;
/** One session in this many subscribes to its principal's `events://` resource. */
const SUBSCRIBED_EVERY = 10;
/** Webhooks in flight at once during a slice. */
export const IN_FLIGHT = 8;
/** Principals set up at once. */
const SETUP_WORKERS = 8;
const LEGACY_VERSION = '2025-11-25';

const keyOf = (i: number) => `bench-commit-key-${String(i).padStart(4, '0')}`;
const principalOf = (i: number) => `p${i}`;

/** `RELAY_API_KEYS` for the commit relays: both get the same principals. */
export function commitApiKeys(): string {
  return Array.from({ length: PRINCIPALS }, (_, i) => `${keyOf(i)}:${principalOf(i)}`).join(',');
}

/** The JSON-RPC answer in a response: plain JSON, or the `data:` of an SSE response (the priming frame has none). */
async function answerOf(response: Response): Promise<{ result?: Record<string, unknown>; error?: unknown }> {
  const text = await response.text();
  if (!response.headers.get('content-type')?.includes('text/event-stream')) return JSON.parse(text) as { result?: Record<string, unknown> };
  const data = text.split('\n').find((line) => line.startsWith('data: {'));
  if (data === undefined) throw new Error(`no JSON-RPC answer in: ${text.slice(0, 200)}`);
  return JSON.parse(data.slice('data: '.length)) as { result?: Record<string, unknown> };
}

/** A 2025-11-25 session over plain fetch: `initialize`, `notifications/initialized`, then requests. */
class BenchSession {
  #nextId = 1;

  private constructor(
    private readonly url: string,
    private readonly headers: Record<string, string>,
  ) {}

  static async open(url: string, key: string): Promise<BenchSession> {
    const base = { authorization: `Bearer ${key}`, accept: 'application/json, text/event-stream', 'content-type': 'application/json' };
    const response = await fetch(`${url}/mcp`, {
      method: 'POST',
      headers: base,
      body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: LEGACY_VERSION, capabilities: {}, clientInfo: { name: 'bench-scale', version: '1' } } }),
    });
    const id = response.headers.get('mcp-session-id');
    const answer = await answerOf(response);
    if (id === null || !answer.result) throw new Error(`initialize answered ${response.status} ${JSON.stringify(answer)}`);
    const session = new BenchSession(url, { ...base, 'mcp-session-id': id, 'mcp-protocol-version': LEGACY_VERSION });
    const initialized = await fetch(`${url}/mcp`, { method: 'POST', headers: session.headers, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
    await initialized.arrayBuffer();
    if (initialized.status !== 202) throw new Error(`notifications/initialized answered ${initialized.status}`);
    return session;
  }

  async call(method: string, params: Record<string, unknown>): Promise<Record<string, unknown>> {
    const response = await fetch(`${this.url}/mcp`, { method: 'POST', headers: this.headers, body: JSON.stringify({ jsonrpc: '2.0', id: this.#nextId++, method, params }) });
    const answer = await answerOf(response);
    if (!answer.result) throw new Error(`${method} answered ${response.status} ${JSON.stringify(answer)}`);
    return answer.result;
  }
}

/**
 * Gives the relay its state: per principal, its share of the sessions (initialized, then
 * left idle, every tenth subscribed to `events://<principal>`) and of the group names (a
 * `check_pending_events` claim from each, made on the principal's first session while
 * the log is empty).
 */
export async function createState(url: string, settings: Pick<CommitSettings, 'groups' | 'sessions'>): Promise<void> {
  const groupsEach = settings.groups / PRINCIPALS;
  const sessionsEach = settings.sessions / PRINCIPALS;
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < PRINCIPALS) {
      const i = next++;
      const principal = principalOf(i);
      const sessions: BenchSession[] = [];
      for (let s = 0; s < sessionsEach; s++) sessions.push(await BenchSession.open(url, keyOf(i)));
      for (let g = 0; g < groupsEach; g++) {
        const claimed = await sessions[0]!.call('tools/call', { name: 'check_pending_events', arguments: { group: `${principal}/g${g}`, limit: 1 } });
        if (claimed.isError === true) throw new Error(`claim refused: ${JSON.stringify(claimed)}`);
      }
      for (const [s, session] of sessions.entries()) {
        if ((i * sessionsEach + s) % SUBSCRIBED_EVERY === 0) await session.call('resources/subscribe', { uri: `events://${principal}` });
      }
      if (++done % 20 === 0) console.error(`commit: state for ${done} of ${PRINCIPALS} principals`);
    }
  };
  await Promise.all(Array.from({ length: SETUP_WORKERS }, worker));
}

/** `count` webhooks from delivery `first` on, {@link IN_FLIGHT} at a time; the latency of each. */
async function slice(publish: (i: number) => Promise<string>, first: number, count: number): Promise<{ latencies: number[]; seconds: number }> {
  const latencies: number[] = [];
  let next = first;
  const start = performance.now();
  const poster = async () => {
    while (next < first + count) {
      const i = next++;
      const sent = performance.now();
      await publish(i);
      latencies.push(performance.now() - sent);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, poster));
  return { latencies, seconds: (performance.now() - start) / 1000 };
}

/** Warms each relay up, then measures them in `rounds` interleaved slices of `events / rounds`. */
export async function measureCommits(targets: readonly CommitTarget[], pool: DeliveryPool, settings: CommitSettings): Promise<CommitRow[]> {
  await pool.signIfStale(Date.now());
  const publishers = targets.map((t) => webhookPublisher(t.server.url, pool));
  const published = targets.map(() => 0);
  for (const [i, target] of targets.entries()) {
    console.error(`commit: ${target.name}: warm-up ${settings.warmupEvents} webhooks`);
    await slice(publishers[i]!, 0, settings.warmupEvents);
    published[i] = settings.warmupEvents;
  }
  const rows = targets.map((t): CommitRow & { samples: number[] } => ({
    name: t.name,
    kind: t.kind,
    webhooks: 0,
    seconds: 0,
    latencies: new Float64Array(0),
    samples: [],
    serverCpuSeconds: 0,
    rssBytes: undefined,
  }));
  const perSlice = Math.ceil(settings.events / settings.rounds);
  for (let round = 0; round < settings.rounds; round++) {
    for (let k = 0; k < targets.length; k++) {
      const i = (k + round) % targets.length;
      const row = rows[i]!;
      const pid = targets[i]!.server.pid;
      const cpuBefore = cpuSeconds(pid);
      const result = await slice(publishers[i]!, published[i]!, perSlice);
      const cpuAfter = cpuSeconds(pid);
      published[i]! += perSlice;
      row.webhooks += perSlice;
      row.seconds += result.seconds;
      row.samples.push(...result.latencies);
      row.serverCpuSeconds = row.serverCpuSeconds !== undefined && cpuBefore !== undefined && cpuAfter !== undefined ? row.serverCpuSeconds + cpuAfter - cpuBefore : undefined;
      console.error(`commit round ${round + 1}/${settings.rounds}: ${targets[i]!.name} ${formatCount(perSlice / result.seconds)} webhooks/s`);
    }
  }
  return rows.map(({ samples, ...row }, i) => ({ ...row, latencies: Float64Array.from(samples), rssBytes: rssBytes(targets[i]!.server.pid) }));
}
