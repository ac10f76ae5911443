import { Prng } from '../check/prng.js';
import type { Relay } from '../../src/app.js';

/**
 * What every fuzz surface shares: a printed seed (FUZZ_SEED=<n> replays a run), hostile
 * inputs drawn from it, a timer lag probe that measures how long the event loop was blocked,
 * and the checks every answer must pass: below 500, JSON (or an event stream), no stack
 * frames or install paths.
 */

/** The longest the event loop may be blocked during a surface's cases. Generous for a loaded 2-core CI runner, far below any catastrophic backtracking. */
export const MAX_LOOP_BLOCK_MS = 750;

export const CASES = Number(process.env.FUZZ_CASES ?? 2000);

export function fuzzSeed(surface: string): number {
  const fixed = process.env.FUZZ_SEED;
  const seed = fixed === undefined ? (Date.now() ^ (surface.length * 2654435761)) >>> 0 : Number(fixed);
  return seed;
}

/** Where a failure is reported from: the surface, the seed that replays it, and the case's input. */
export interface Verdict {
  fail(why: string): never;
  check(ok: boolean, why: () => string): void;
}

export class FuzzRun implements Verdict {
  readonly prng: Prng;

  constructor(
    readonly surface: string,
    readonly seed: number = fuzzSeed(surface),
  ) {
    this.prng = new Prng(seed);
  }

  /** A verdict that names one case and its input in its failure message. */
  case(index: number, input: unknown): Verdict {
    const shown = (typeof input === 'string' ? input : (JSON.stringify(input) ?? String(input))).slice(0, 400);
    return this.#verdict(`case ${index}, input ${shown}`);
  }

  fail(why: string): never {
    return this.#verdict('after the cases').fail(why);
  }

  check(ok: boolean, why: () => string): void {
    if (!ok) this.fail(why());
  }

  #verdict(where: string): Verdict {
    const fail = (why: string): never => {
      throw new Error(`${this.surface}: ${why}\n  ${where}\n  replay: FUZZ_SEED=${this.seed} npx vitest run test/fuzz`);
    };
    return { fail, check: (ok, why) => (ok ? undefined : fail(why())) };
  }
}

/** Measures the longest gap between 5 ms timer ticks: how long the event loop was blocked. */
export function lagProbe(): { stop(): number } {
  const tick = 5;
  let last = performance.now();
  let worst = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last - tick);
    last = now;
  }, tick);
  return {
    stop() {
      clearInterval(timer);
      return worst;
    },
  };
}

/** Runs `count` cases with at most `parallel` in flight, in case order per slot. */
export async function runCases(count: number, parallel: number, one: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await one(next++);
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

const STACK_FRAME = /\n\s+at [^\n]*\(|node_modules|\/work\/|\/home\/|\/usr\/|\.ts:\d+|\.js:\d+/;

/**
 * Every answer: below 500, no internals, and JSON — for every answer, or (`errorsOnly`, for
 * routes that also serve pages, metrics text and streams) for every refusal.
 */
export function checkAnswer(run: Verdict, status: number, contentType: string | null, body: string, errorsOnly = false): void {
  run.check(status >= 100 && status < 500, () => `answered ${status}: ${body.slice(0, 300)}`);
  run.check(status < 400 || !STACK_FRAME.test(body), () => `answer leaks internals: ${body.slice(0, 300)}`);
  if (body.length === 0 || (errorsOnly && status < 400)) return;
  run.check(contentType?.includes('json') === true, () => `answered ${status} with ${contentType}: ${body.slice(0, 200)}`);
  try {
    JSON.parse(body);
  } catch {
    run.fail(`answered ${status} with a body that is not JSON: ${body.slice(0, 200)}`);
  }
}

/** The relay is up and its log holds exactly what it held before the cases. */
export async function checkUnharmed(run: Verdict, relay: Relay, headBefore: string | null): Promise<void> {
  const health = await fetch(`${relay.url}/healthz`);
  run.check(health.status === 200, () => `/healthz answered ${health.status} after the cases`);
  const head = await relay.log.head();
  run.check(head === headBefore, () => `the log changed: head ${headBefore} → ${head}`);
}

const ODD_STRINGS = [
  '',
  ' ',
  '%',
  '%E0%A4%A',
  '%00',
  '%ZZ',
  '%25',
  '\u0000',
  '\uD800',
  '\uDFFF',
  '\u202E',
  '💥',
  '../../etc/passwd',
  '__proto__',
  'constructor',
  'prototype',
  'null',
  'true',
  '-1',
  '1e309',
  '00000000000000000000000000',
  '7ZZZZZZZZZZZZZZZZZZZZZZZZZ',
  '01ARZ3NDEKTSV4RRFFQ69G5FAV',
  'payment.*',
  '*',
  '**',
  '*.*.*.*.*.*.*.*.*.*.*.*.*.*.*.*.*!',
  `${'*'.repeat(199)}!`,
  `${'a*'.repeat(99)}!`,
  '<script>alert(1)</script>',
  '${jndi:ldap://x}',
  "'; DROP TABLE events; --",
  '\r\nX-Injected: 1',
];

/** Percent-encodes some characters and leaves the rest raw: URLs as a careless or hostile client writes them. */
export function messyEncode(run: FuzzRun, text: string): string {
  const encode = (c: string) => {
    try {
      return encodeURIComponent(c);
    } catch {
      return '%ED%A0%80'; // a lone surrogate: the bytes of an invalid UTF-8 sequence
    }
  };
  return [...text].map((c) => (/[A-Za-z0-9*._~-]/.test(c) || run.prng.chance(0.2) ? c : encode(c))).join('').replace(/[#?\s]/g, '');
}

/** A string drawn to break parsers: odd values, pattern bombs, random bytes, long runs. */
export function hostileString(run: FuzzRun, maxLength = 300): string {
  const { prng } = run;
  switch (prng.int(0, 4)) {
    case 0:
      return prng.pick(ODD_STRINGS);
    case 1:
      return prng.pick(['*', 'a', '.', '%', '\\', '"', '{', '[']).repeat(prng.int(1, maxLength));
    case 2: {
      let text = '';
      const length = prng.int(0, Math.min(maxLength, 64));
      for (let i = 0; i < length; i++) text += String.fromCharCode(prng.int(0, 0xffff));
      return text;
    }
    case 3: {
      let text = '';
      const length = prng.int(1, Math.min(maxLength, 40));
      for (let i = 0; i < length; i++) text += prng.pick(['a', 'z', '.', '*', '-', '_', '/', '%', '0', 'Z']);
      return text;
    }
    default:
      return prng.pick(ODD_STRINGS) + prng.pick(ODD_STRINGS);
  }
}

/** A JSON value of random shape (shallow: {@link deepJsonText} makes the deep ones). */
export function hostileJson(run: FuzzRun, depth = 0): unknown {
  const { prng } = run;
  const kind = depth > 4 ? prng.int(0, 4) : prng.int(0, 7);
  switch (kind) {
    case 0:
      return null;
    case 1:
      return prng.chance(0.5);
    case 2:
      return prng.pick([0, -1, 1.5, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, 2 ** 31]);
    case 3:
    case 4:
      return hostileString(run);
    case 5:
      return Array.from({ length: prng.int(0, 5) }, () => hostileJson(run, depth + 1));
    default: {
      const object: Record<string, unknown> = {};
      for (let i = prng.int(0, 5); i > 0; i--) object[hostileString(run, 20)] = hostileJson(run, depth + 1);
      return object;
    }
  }
}

/** JSON text `[[[…]]]` or `{"a":{"a":…}}`, `depth` containers deep (as text: a value this deep overflows JSON.stringify). */
export function deepJsonText(depth: number, objects: boolean): string {
  return objects ? `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}` : `${'['.repeat(depth)}1${']'.repeat(depth)}`;
}

/** A request body: mostly hostile JSON, sometimes nested thousands deep, sometimes not JSON at all. */
export function hostileBody(run: FuzzRun): string {
  const { prng } = run;
  if (prng.chance(0.05)) return deepJsonText(prng.int(65, 5000), prng.chance(0.5));
  if (prng.chance(0.2)) return hostileString(run, 2000);
  return JSON.stringify(hostileJson(run)) ?? 'null';
}
