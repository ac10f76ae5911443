/**
 * What a scenario is made of: rules (one check each, quoting the sentence it enforces), a
 * report that records pass / FAIL / skip per rule, and the context scenarios run in (the
 * connection, the subscription under test, the trigger that makes the server produce events).
 */
import { spawn } from 'node:child_process';
import { Connection, type Era, type Json, type Reply, type WireOptions } from './wire.js';

export type { Json } from './wire.js';

/**
 * `must`: a MUST of the draft or of the protocol revision, or the shape the draft defines;
 * `should`: a SHOULD of the draft; both fail the run. `advice`: not a sentence of the draft
 * but a consequence of its rules a server is held to with `--strict` (without it, a
 * failure prints `warn` and the run still passes).
 */
export type Level = 'must' | 'should' | 'advice';

export interface Rule {
  id: string;
  level: Level;
  /** The sentence enforced, quoted from the draft (or from the protocol revision, `source` says which). */
  quote: string;
  source?: string;
}

export const DRAFT = 'Events draft (design-sketch-proposal.md)';

export type Outcome = 'pass' | 'FAIL' | 'warn' | 'skip';

export interface Result {
  scenario: string;
  rule: Rule;
  outcome: Outcome;
  detail: string;
}

export class Report {
  readonly results: Result[] = [];
  constructor(
    readonly scenario: string,
    private readonly strict: boolean,
  ) {}

  #add(rule: Rule, outcome: Outcome, detail: string): void {
    if (this.results.some((r) => r.rule.id === rule.id)) return; // the first verdict on a rule stands
    this.results.push({ scenario: this.scenario, rule, outcome, detail });
  }

  /** Records `ok` as pass, otherwise as a failure (`warn` for advice outside `--strict`). */
  check(rule: Rule, ok: boolean, detail: string): boolean {
    this.#add(rule, ok ? 'pass' : rule.level === 'advice' && !this.strict ? 'warn' : 'FAIL', ok ? '' : detail);
    return ok;
  }

  skip(rule: Rule, reason: string): void {
    this.#add(rule, 'skip', reason);
  }

  has(rule: Rule): boolean {
    return this.results.some((r) => r.rule.id === rule.id);
  }
}

export interface Subscription {
  name: string;
  arguments: Json | undefined;
}

export interface SuiteOptions {
  url: string;
  token: string | undefined;
  era: Era;
  /** Makes the server produce exactly one event of the subscription; absent: scenarios needing events skip. */
  trigger: string | undefined;
  event: string | undefined;
  arguments: Json | undefined;
  staleCursor: string | undefined;
  heartbeatWithinMs: number;
  longPollMs: number;
  exhaustStreams: number;
  streamEndsWithinMs: number | undefined;
  strict: boolean;
}

/** What the suite declares: `events`, and `experimental.events` for servers that read only that. */
export const EVENTS_CAPABILITIES: Json = { events: {}, experimental: { events: {} } };

export interface Context {
  options: SuiteOptions;
  /** Opts in to Events. */
  connection: Connection;
  /** Opens another connection, e.g. one that does not declare the Events capability. */
  connect(capabilities?: Json): Promise<Connection>;
  /** The event type under test and its arguments (resolved from `events/list` when not given). */
  subscription: Subscription;
  /** Runs the trigger once: one new event of the subscription exists when it resolves. */
  trigger(): Promise<void>;
  canTrigger: boolean;
}

export interface Scenario {
  name: string;
  title: string;
  rules: Rule[];
  run(context: Context, report: Report): Promise<void>;
}

export function wireOptions(options: SuiteOptions, capabilities: Json): WireOptions {
  return { url: options.url, token: options.token, era: options.era, capabilities };
}

let triggered = 0;

/**
 * Runs the trigger: a URL is POSTed `{ name, arguments, seq }` (with the bearer token when it
 * is on the server's origin) and must answer 2xx; anything
 * else is a shell command (environment `EVENTS_NAME`, `EVENTS_ARGUMENTS`, `EVENTS_SEQ`) that
 * must exit 0.
 */
export async function runTrigger(spec: string, subscription: Subscription, options: Pick<SuiteOptions, 'url' | 'token'>): Promise<void> {
  const seq = ++triggered;
  if (/^https?:\/\//.test(spec)) {
    // The bearer token goes only to a trigger on the server's own origin.
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (options.token && new URL(spec).origin === new URL(options.url).origin) headers.authorization = `Bearer ${options.token}`;
    const res = await fetch(spec, { method: 'POST', headers, body: JSON.stringify({ name: subscription.name, arguments: subscription.arguments ?? {}, seq }) });
    const text = await res.text();
    if (!res.ok) throw new Error(`trigger ${spec} answered ${res.status}: ${text.slice(0, 200)}`);
    return;
  }
  await new Promise<void>((resolve, reject) => {
    const env = { ...process.env, EVENTS_NAME: subscription.name, EVENTS_ARGUMENTS: JSON.stringify(subscription.arguments ?? {}), EVENTS_SEQ: String(seq) };
    const child = spawn('sh', ['-c', spec], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`trigger command exited ${code}`))));
  });
}

// -- helpers shared by scenarios ------------------------------------------------------------

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

export const show = (value: unknown) => {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 300 ? `${text.slice(0, 300)}…` : text;
};

/** A reply in one line: its HTTP status and its error or result. */
export const describeReply = (reply: Reply) => `HTTP ${reply.status}: ${show(reply.message?.error ?? reply.message?.result)}`;

export function subscriptionParams(subscription: Subscription, extra: Json = {}): Json {
  return { name: subscription.name, ...(subscription.arguments ? { arguments: subscription.arguments } : {}), ...extra };
}

/** `{ events, cursor, hasMore, truncated, nextPollMs }` of a successful poll, or undefined. */
export interface PollResult {
  events: Json[];
  cursor: string | null;
  hasMore: boolean;
  truncated: boolean;
  nextPollMs: number;
  raw: Json;
}

export function pollResult(reply: Reply): PollResult | undefined {
  const raw = reply.message?.result;
  if (!raw || !Array.isArray(raw.events)) return undefined;
  const cursor = raw.cursor === undefined ? null : (raw.cursor as string | null);
  return { events: raw.events as Json[], cursor, hasMore: raw.hasMore === true, truncated: raw.truncated === true, nextPollMs: raw.nextPollMs as number, raw };
}

export async function poll(context: Context, cursor: string | null | undefined, extra: Json = {}): Promise<{ reply: Reply; result: PollResult }> {
  const params = subscriptionParams(context.subscription, cursor === undefined ? extra : { cursor, ...extra });
  const reply = await context.connection.request('events/poll', params);
  const result = pollResult(reply);
  if (!result) throw new Error(`events/poll failed: HTTP ${reply.status} ${show(reply.message?.error ?? reply.message)}`);
  return { reply, result };
}

/** The subscription's current position: a poll with `cursor: null`. */
export async function headCursor(context: Context): Promise<string | null> {
  return (await poll(context, null)).result.cursor;
}

/**
 * Polls from `cursor` until `count` events arrived or `deadlineMs` passed: pages follow
 * `hasMore` at once, otherwise short long polls. Returns the events and the last cursor.
 */
export async function collect(context: Context, cursor: string | null, count: number, deadlineMs = 10_000, extra: Json = {}): Promise<{ events: Json[]; cursor: string | null; pages: PollResult[] }> {
  const events: Json[] = [];
  const pages: PollResult[] = [];
  const deadline = Date.now() + deadlineMs;
  let at = cursor;
  while (events.length < count && Date.now() < deadline) {
    const { result } = await poll(context, at, { timeoutMs: 1000, ...extra });
    pages.push(result);
    events.push(...result.events);
    at = result.cursor;
    if (!result.hasMore && result.events.length === 0) await sleep(50);
  }
  return { events, cursor: at, pages };
}
