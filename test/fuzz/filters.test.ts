import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/app.js';
import { compileFilter } from '../../src/events/filter.js';
import { LOG_START } from '../../src/events/ulid.js';
import { ingest, keys, modernPost, readRpc, startMcpRelay } from '../support/mcp-clients.js';
import { CASES, FuzzRun, lagProbe, MAX_LOOP_BLOCK_MS, runCases } from './kit.js';

/** Patterns built to make a backtracking matcher explode, and values to feed them. */
const REDOS_CORPUS = [
  `${'*'.repeat(199)}!`,
  `${'*a'.repeat(99)}!`,
  `${'a*'.repeat(99)}b`,
  `*${'.*'.repeat(60)}!`,
  `${'*'.repeat(16)}!`,
  `${'*'.repeat(18)}!`,
  `a${'*a'.repeat(50)}*b`,
];

/**
 * The oracle: glob matching by dynamic programming over (pattern position, value position),
 * written independently of the relay's matcher. `*` matches any run, dots included.
 */
function globOracle(glob: string, value: string): boolean {
  let row = new Array<boolean>(value.length + 1).fill(false);
  row[0] = true;
  for (const c of glob) {
    const next = new Array<boolean>(value.length + 1).fill(false);
    if (c === '*') {
      let any = false;
      for (let j = 0; j <= value.length; j++) next[j] = any ||= row[j]!;
    } else {
      for (let j = 1; j <= value.length; j++) next[j] = row[j - 1]! && value[j - 1] === c;
    }
    row = next;
  }
  return row[value.length]!;
}

function patternOf(run: FuzzRun, alphabet: readonly string[]): string {
  const { prng } = run;
  if (prng.chance(0.2)) return prng.pick(REDOS_CORPUS);
  return Array.from({ length: prng.int(1, 40) }, () => prng.pick(alphabet)).join('');
}

const ALPHABET = ['a', 'b', '.', '*', '*', '!'];

/** A value to match: short runs of the pattern alphabet, or a long run a bad matcher chokes on. */
function valueOf(run: FuzzRun, longest: number): string {
  const { prng } = run;
  if (prng.chance(0.1)) return `${'a'.repeat(prng.int(100, longest))}${prng.pick(['', '!', 'b'])}`;
  return Array.from({ length: prng.int(1, 40) }, () => prng.pick(['a', 'b', '.', '!'])).join('');
}

describe('fuzz: filters', () => {
  it('any pattern matches in bounded time and exactly as the glob oracle says', () => {
    const run = new FuzzRun('filters/matcher');
    const probe = lagProbe();
    for (let index = 0; index < CASES; index++) {
      const patterns = Array.from({ length: run.prng.int(1, 5) }, () => patternOf(run, ALPHABET));
      const matches = compileFilter({ types: patterns });
      for (let v = 0; v < 10; v++) {
        const value = valueOf(run, 2000);
        const expected = patterns.some((p) => globOracle(p, value));
        run.case(index, { patterns, value: value.slice(0, 80) }).check(matches({ type: value, source: 's' }) === expected, () => `matched ${!expected}, the oracle says ${expected}`);
      }
    }
    expect(probe.stop()).toBeLessThan(MAX_LOOP_BLOCK_MS);
  });

  describe('over the wire', () => {
    let relay: Relay;
    const types: string[] = [];
    beforeAll(async () => {
      relay = await startMcpRelay();
      const run = new FuzzRun('filters/log');
      for (let i = 0; i < 120; i++) {
        const type = valueOf(run, 126);
        types.push(type);
        await ingest(relay, { type });
      }
    });
    afterAll(() => relay.close());

    it('events/poll with hostile type globs returns exactly the matching events, without stalling the relay', async () => {
      const run = new FuzzRun('filters/poll');
      const stored = (await relay.log.read({ after: LOG_START, limit: 1000 })).events;
      const probe = lagProbe();
      await runCases(Math.ceil(CASES / 10), 4, async (index) => {
        const patterns = Array.from({ length: run.prng.int(1, 3) }, () => patternOf(run, ALPHABET));
        const verdict = run.case(index, patterns);
        const res = await modernPost(relay, 'events/poll', { name: 'cx_events', arguments: { types: patterns }, cursor: LOG_START, maxEvents: 1000 });
        const answer = await readRpc(res);
        verdict.check(answer.result !== undefined, () => `poll refused: ${JSON.stringify(answer.error)}`);
        const got = (answer.result!.events as { cursor: string }[]).map((e) => e.cursor);
        const expected = stored.filter((e) => patterns.some((p) => globOracle(p, e.type))).map((e) => e.id);
        verdict.check(JSON.stringify(got) === JSON.stringify(expected), () => `returned ${got.length} events, the oracle expects ${expected.length}`);
      });
      expect(probe.stop()).toBeLessThan(MAX_LOOP_BLOCK_MS);
    });

    it('/feed and check_pending_events accept a ReDoS pattern and the relay keeps answering', async () => {
      const probe = lagProbe();
      for (const pattern of REDOS_CORPUS) {
        const abort = new AbortController();
        const feed = await fetch(`${relay.url}/feed?types=${encodeURIComponent(pattern)}&lastEventId=${LOG_START}`, { headers: { authorization: `Bearer ${keys.alice}` }, signal: abort.signal });
        expect(feed.status).toBe(200);
        const health = await fetch(`${relay.url}/healthz`);
        expect(health.status).toBe(200);
        abort.abort();
        const claim = await modernPost(relay, 'tools/call', { name: 'check_pending_events', arguments: { group: 'alice/redos', types: [pattern], limit: 100 } }, { headers: { 'mcp-name': 'check_pending_events' } });
        expect((await readRpc(claim)).result).toBeDefined();
      }
      expect(probe.stop()).toBeLessThan(MAX_LOOP_BLOCK_MS);
    });
  });
});
