/**
 * `npm run conformance`: the official MCP conformance suite (@modelcontextprotocol/conformance,
 * pinned in conformance/cli/package.json) against this relay, in both protocol eras.
 *
 * 1. Starts the relay from source on a free loopback port with the memory store and no API
 *    keys (open on loopback: the suite sends no bearer token).
 * 2. Runs the CLI's server scenarios twice against `<relay>/mcp`, once per wire revision:
 *    `--suite all --spec-version 2025-11-25` (initialize, sessions, GET streams) and
 *    `--suite all --spec-version 2026-07-28` (stateless, server/discover, subscriptions/listen),
 *    each with `--expected-failures conformance/expected-failures.yaml`. The CLI judges the
 *    baseline: it exits non-zero on an unexpected failure and on a listed failure that now
 *    passes ("stale"), so the list stays true.
 * 3. Checks that the scenarios this server must pass (REQUIRED) ran and are not excused
 *    wholesale by the baseline, prints a summary, stops the relay and removes its temp files.
 *
 * On Node 20 the CLI is started with `--import ./node20/register.mjs` (fs.globSync polyfill
 * through a resolve hook; see node20/register.mjs). Options: `--keep` keeps the CLI's logs and
 * checks.json files and prints where; `--verbose` streams the CLI's own output.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startRelayFromSource, stopRelay } from './relay-from-source.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BASELINE = join(ROOT, 'conformance', 'expected-failures.yaml');
const NODE20_SHIM = join(ROOT, 'conformance', 'node20', 'register.mjs');
/** The whole run must end well inside this. */
const DEADLINE_MS = 110_000;
const SCENARIO_TIMEOUT_MS = 20_000;

interface Leg {
  revision: string;
  title: string;
  args: string[];
}

const LEGS: Leg[] = [
  { revision: '2025-11-25', title: 'initialize, sessions, GET stream, Last-Event-ID', args: ['--suite', 'all', '--spec-version', '2025-11-25'] },
  { revision: '2026-07-28', title: 'stateless: _meta envelope, server/discover, subscriptions/listen', args: ['--suite', 'all', '--spec-version', '2026-07-28'] },
];

/**
 * Scenarios that must pass (the list). A whole-scenario entry for one of them in the
 * baseline is refused; a per-check entry (a check that needs a conformance fixture tool) is
 * allowed. Each must have run in at least one leg.
 */
const REQUIRED = [
  'server-initialize',
  'server-session-lifecycle',
  'ping',
  'tools-list',
  'resources-list',
  'resources-subscribe',
  'resources-unsubscribe',
  'server-sse-multiple-streams',
  'server-sse-polling',
  'dns-rebinding-protection',
  'server-stateless',
  'http-header-validation',
  'caching',
  'sep-2164-resource-not-found',
];

type Status = 'SUCCESS' | 'FAILURE' | 'WARNING' | 'SKIPPED' | 'INFO';
interface Check {
  id: string;
  status: Status;
  errorMessage?: string;
}
interface ScenarioResult {
  scenario: string;
  checks: Check[];
}
interface Baseline {
  expected: Set<string>;
  stale: Set<string>;
  unexpected: Set<string>;
}
interface LegResult {
  leg: Leg;
  exitCode: number;
  ms: number;
  scenarios: ScenarioResult[];
  baseline: Baseline | undefined;
  logPath: string;
}

const failing = (check: Check) => check.status === 'FAILURE' || check.status === 'WARNING';
const stripAnsi = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '');

/** `- entry  # reason` lines under `server:`; the file is a flat list (see its header). */
async function baselineEntries(): Promise<string[]> {
  const text = await readFile(BASELINE, 'utf8');
  return [...text.matchAll(/^\s*-\s*([^\s#]+)/gm)].map((m) => m[1]!);
}

/**
 * The CLI as `npm run conformance` installs it in `conformance/cli/` (pinned there, out of the
 * relay's own install: it is built for Node 22), and its version.
 */
function conformanceCli(): { path: string; version: string } {
  const require = createRequire(join(ROOT, 'conformance', 'cli', 'package.json'));
  const manifest = require.resolve('@modelcontextprotocol/conformance/package.json');
  const pkg = require(manifest) as { version: string; bin: { conformance: string } };
  return { path: join(dirname(manifest), pkg.bin.conformance), version: pkg.version };
}

/** Node < 22 has no fs.globSync; conformance/node20/register.mjs then polyfills it for the CLI. */
const GLOB_SYNC_POLYFILLED = !('globSync' in fs);

/** The CLI's baseline verdict: the `~` / `✓` / `✗` items under its three headings. */
function parseBaseline(output: string): Baseline | undefined {
  const lines = stripAnsi(output).split('\n');
  const start = lines.findIndex((l) => /^(Expected failures \(in baseline\)|Stale baseline entries|Unexpected failures \(not in baseline\)|Baseline check passed)/.test(l));
  if (start === -1) return undefined;
  const baseline: Baseline = { expected: new Set(), stale: new Set(), unexpected: new Set() };
  let into: Set<string> | undefined;
  for (const line of lines.slice(start)) {
    if (line.startsWith('Expected failures')) into = baseline.expected;
    else if (line.startsWith('Stale baseline entries')) into = baseline.stale;
    else if (line.startsWith('Unexpected failures (not in baseline)')) into = baseline.unexpected;
    const item = /^ {2}[~✓✗] (\S+)$/.exec(line);
    if (item && into) into.add(item[1]!);
  }
  return baseline;
}

/** `<dir>/server-<scenario>-<ISO time>/checks.json`, one per scenario run. */
async function readResults(dir: string): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  for (const entry of (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory())) {
    const scenario = entry.name.replace(/^server-/, '').replace(/-\d{4}-\d{2}-\d{2}T[\d-]+Z$/, '');
    try {
      results.push({ scenario, checks: JSON.parse(await readFile(join(dir, entry.name, 'checks.json'), 'utf8')) as Check[] });
    } catch {
      results.push({ scenario, checks: [{ id: scenario, status: 'FAILURE', errorMessage: 'no readable checks.json' }] });
    }
  }
  return results.sort((a, b) => a.scenario.localeCompare(b.scenario));
}

async function runLeg(leg: Leg, url: string, work: string, verbose: boolean, children: Set<ChildProcess>): Promise<LegResult> {
  const outDir = join(work, leg.revision);
  const logPath = join(work, `${leg.revision}.log`);
  const log = fs.createWriteStream(logPath);
  const started = Date.now();
  const args = ['--import', NODE20_SHIM, conformanceCli().path, 'server', '--url', url, ...leg.args];
  args.push('--expected-failures', BASELINE, '--timeout', String(SCENARIO_TIMEOUT_MS), '-o', outDir);
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let output = '';
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      log.write(chunk);
      if (verbose) process.stdout.write(chunk);
    });
  }
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  children.delete(child);
  await new Promise((resolve) => log.end(resolve));
  let scenarios: ScenarioResult[] = [];
  try {
    scenarios = await readResults(outDir);
  } catch {
    // the CLI wrote nothing; reported below from its exit code and log
  }
  return { leg, exitCode: code ?? (signal ? 128 : 1), ms: Date.now() - started, scenarios, baseline: parseBaseline(output), logPath };
}

function describe(result: ScenarioResult, baseline: Baseline | undefined): { tag: string; note: string } {
  const counted = result.checks.filter((c) => c.status !== 'INFO');
  const bad = counted.filter(failing);
  const ok = counted.filter((c) => c.status === 'SUCCESS').length;
  const keys = (c: Check) => [result.scenario, `${result.scenario}:${c.id}`];
  const staleHere = [...(baseline?.stale ?? [])].filter((s) => s === result.scenario || s.startsWith(`${result.scenario}:`));
  if (staleHere.length > 0) return { tag: 'STALE', note: `listed as failing but passes: ${staleHere.join(', ')}` };
  if (bad.length === 0) return { tag: 'pass', note: `${ok} check${ok === 1 ? '' : 's'}` };
  const unexpected = bad.filter((c) => !keys(c).some((k) => baseline?.expected.has(k)));
  if (unexpected.length > 0) {
    return { tag: 'FAIL', note: unexpected.map((c) => `${c.id} ${c.status}: ${(c.errorMessage ?? '').slice(0, 160)}`).join('\n         ') };
  }
  // `xfail`: the whole scenario is excused; `part`: it passes apart from excused checks.
  const whole = baseline?.expected.has(result.scenario) ?? false;
  return { tag: whole ? 'xfail' : 'part', note: `${ok} ok, excused: ${bad.map((c) => c.id).join(', ')}` };
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { keep: { type: 'boolean', default: false }, verbose: { type: 'boolean', default: false } } });
  const started = Date.now();
  const work = await mkdtemp(join(tmpdir(), 'relay-conformance-'));
  const children = new Set<ChildProcess>();
  let relay: Awaited<ReturnType<typeof startRelayFromSource>> | undefined;
  const deadline = setTimeout(() => {
    console.error(`conformance: no result after ${DEADLINE_MS / 1000} s, stopping`);
    for (const child of children) child.kill('SIGKILL');
    relay?.child.kill('SIGKILL');
    if (!values.keep) fs.rmSync(work, { recursive: true, force: true });
    process.exit(1);
  }, DEADLINE_MS);
  const interrupt = () => {
    for (const child of children) child.kill('SIGKILL');
    relay?.child.kill('SIGKILL');
    void rm(work, { recursive: true, force: true }).finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);

  const problems: string[] = [];
  try {
    const entries = await baselineEntries();
    for (const name of REQUIRED) if (entries.includes(name)) problems.push(`${name} must pass, but expected-failures.yaml excuses the whole scenario`);

    relay = await startRelayFromSource({ RELAY_LOG_LEVEL: 'info' });
    const endpoint = `${relay.url}/mcp`;
    const shim = GLOB_SYNC_POLYFILLED ? ', fs.globSync polyfilled by conformance/node20' : '';
    console.log(`conformance ${conformanceCli().version} against ${endpoint} (relay from source, memory store, open on loopback; node ${process.version}${shim})`);

    const results: LegResult[] = [];
    for (const leg of LEGS) {
      const result = await runLeg(leg, endpoint, work, values.verbose!, children);
      results.push(result);
      console.log(`\n${leg.revision} wire — ${leg.title}: ${result.scenarios.length} scenarios, ${(result.ms / 1000).toFixed(1)} s, CLI exit ${result.exitCode}`);
      for (const scenario of result.scenarios) {
        const { tag, note } = describe(scenario, result.baseline);
        console.log(`  ${tag.padEnd(5)}  ${scenario.scenario.padEnd(46)} ${note}`);
      }
      if (!result.baseline) problems.push(`${leg.revision}: the CLI printed no baseline verdict (exit ${result.exitCode}); log tail:\n${(await readFile(result.logPath, 'utf8')).slice(-2000)}`);
      else if (result.exitCode !== 0) {
        const { unexpected, stale } = result.baseline;
        problems.push(
          `${leg.revision}: the CLI's baseline check failed (exit ${result.exitCode}): ` +
            `unexpected failures: ${[...unexpected].join(', ') || 'none'}; stale entries (passing now, delete them): ${[...stale].join(', ') || 'none'}`,
        );
      }
    }

    const ran = new Map<string, boolean>();
    for (const { scenarios } of results) {
      for (const s of scenarios) ran.set(s.scenario, (ran.get(s.scenario) ?? false) || s.checks.some((c) => c.status === 'SUCCESS'));
    }
    for (const name of REQUIRED) if (!ran.get(name)) problems.push(`${name} must pass, but no leg ran it with a passing check`);
    if (relay.child.exitCode !== null || relay.child.signalCode !== null) {
      problems.push(`the relay exited during the run (${relay.child.signalCode ?? relay.child.exitCode}); its output:\n${relay.output.join('').slice(-3000)}`);
    }

    const rows = results.flatMap((r) => r.scenarios.map((s) => describe(s, r.baseline)));
    const count = (tag: string) => rows.filter((r) => r.tag === tag).length;
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(
      `\nsummary: ${rows.length} scenario runs in ${results.length} legs — ${count('pass')} passed, ${count('part')} passed apart from excused checks, ${count('xfail')} excused, ` +
        `${count('FAIL')} unexpected failures, ${count('STALE')} stale entries; required: ${REQUIRED.filter((n) => ran.get(n)).length}/${REQUIRED.length} ran — ` +
        `${problems.length === 0 ? 'OK' : 'FAILED'} (${seconds} s)`,
    );
    if (values.keep) console.log(`results kept in ${work} (<revision>.log and <revision>/server-*/checks.json)`);
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
  } finally {
    if (relay) await stopRelay(relay.child);
    if (!values.keep) await rm(work, { recursive: true, force: true });
    clearTimeout(deadline);
  }
  for (const problem of problems) console.error(`\nconformance: ${problem}`);
  if (problems.length > 0 && !values.keep) console.error('\n(rerun with `npm run conformance -- --keep` to keep the CLI logs and checks.json files)');
  return problems.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('conformance:', error);
    process.exit(1);
  },
);
