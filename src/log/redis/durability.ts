import type { Redis } from 'ioredis';

/**
 * Whether a Redis server keeps what the relay acknowledges. A webhook answered 200 must
 * survive a Redis crash, which takes the append-only file fsynced on every write; and no log
 * entry, dedup key or consumer group may ever be evicted. Read once at start with
 * `CONFIG GET` (one setting per call, which Redis 6 needs as well as 7).
 */

/** A setting that lets Redis lose an acknowledged write, and what to set instead. */
interface DurabilityProblem {
  setting: 'appendonly' | 'appendfsync' | 'maxmemory-policy';
  value: string;
  expected: string;
  /** What can be lost as it is. */
  risk: string;
}

/** The settings' verdict, or why they could not be read (`CONFIG` renamed or refused, Redis not answering). */
type RedisDurability = { verified: true; problems: DurabilityProblem[] } | { verified: false; reason: string };

/** Where the check reports: the relay's structured logger. */
export interface DurabilityWarnings {
  warn(fields: Record<string, unknown>, message: string): void;
}

const SETTINGS = ['appendonly', 'appendfsync', 'maxmemory-policy'] as const;
type Settings = Record<(typeof SETTINGS)[number], string>;

/** What each setting must be, and what is lost otherwise. */
function problemsOf(settings: Settings): DurabilityProblem[] {
  const problems: DurabilityProblem[] = [];
  if (settings.appendonly !== 'yes') {
    problems.push({ setting: 'appendonly', value: settings.appendonly, expected: 'yes', risk: 'a Redis restart loses every write since its last snapshot' });
  }
  if (settings.appendfsync !== 'always') {
    const risk = settings.appendfsync === 'everysec' ? 'a Redis crash loses up to the last second of writes' : 'a crash of the machine loses what the OS had not written yet';
    problems.push({ setting: 'appendfsync', value: settings.appendfsync, expected: 'always', risk });
  }
  if (settings['maxmemory-policy'] !== 'noeviction') {
    problems.push({
      setting: 'maxmemory-policy',
      value: settings['maxmemory-policy'],
      expected: 'noeviction',
      risk: 'at maxmemory Redis evicts log entries, dedup keys and consumer groups',
    });
  }
  return problems;
}

/** Reads the persistence and eviction settings and judges them; never throws. */
async function readRedisDurability(redis: Redis): Promise<RedisDurability> {
  let values: string[];
  try {
    // A Redis-like server that does not report a setting is judged as not having it right.
    values = await Promise.all(SETTINGS.map(async (name) => ((await redis.config('GET', name)) as string[])[1] ?? 'not reported'));
  } catch (error) {
    const message = (error as Error).message.split('\n')[0]!.trim();
    const answered = (error as Error).name === 'ReplyError';
    return { verified: false, reason: answered ? `CONFIG GET is not available (${message})` : `Redis did not answer CONFIG GET (${message})` };
  }
  return { verified: true, problems: problemsOf(Object.fromEntries(SETTINGS.map((name, i) => [name, values[i]!])) as Settings) };
}

const REQUIRE = 'RELAY_REDIS_REQUIRE_DURABLE=1';

/**
 * The start-up check: each problem is one warning naming the setting and its fix, and
 * settings that cannot be read are said once. With `requireDurable` either one throws
 * instead, with a one-line message, so the relay does not start.
 */
export async function checkRedisDurability(redis: Redis, requireDurable: boolean, warnings: DurabilityWarnings): Promise<void> {
  const verdict = await readRedisDurability(redis);
  if (!verdict.verified) {
    if (requireDurable) throw new Error(`${REQUIRE}: could not verify that Redis keeps acknowledged events: ${verdict.reason}`);
    warnings.warn(
      { reason: verdict.reason, fix: 'appendonly yes, appendfsync always, maxmemory-policy noeviction on the Redis server' },
      `could not verify Redis durability: ${verdict.reason}; check its settings by hand`,
    );
    return;
  }
  if (verdict.problems.length === 0) return;
  if (requireDurable) {
    const found = verdict.problems.map((p) => `${p.setting} is ${p.value} (set ${p.setting} ${p.expected})`).join(', ');
    throw new Error(`${REQUIRE}: Redis does not keep acknowledged events: ${found}`);
  }
  for (const problem of verdict.problems) {
    warnings.warn(
      { ...problem, fix: `${problem.setting} ${problem.expected} in redis.conf, or CONFIG SET ${problem.setting} ${problem.expected}` },
      `Redis ${problem.setting} is ${problem.value}: ${problem.risk}; set ${problem.setting} ${problem.expected}`,
    );
  }
}
