import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipRedis } from '../support/redis-server.js';
import { rerunCommand } from './campaign.js';
import { runSchedule, type RunOptions } from './execute.js';
import { startCheckRedis, type CheckRedis } from './redis.js';
import { drawSchedule, type Op, type Schedule, type StoreKind } from './schedule.js';

/**
 * A fixed handful of the fault checker's seeds on every store, small enough for `npm test`
 * (about two minutes on two cores); `npm run check -- --seeds 200 --store …` runs many more.
 * The seeds were picked for what they cover between them: kills and graceful restarts,
 * trims past paused and stalled readers of every kind, rotation, lease expiry and dead
 * letters. A failure prints the command that reruns (and shrinks) it.
 */
const OPS = 24;
const SEEDS: Record<StoreKind, number[]> = {
  sqlite: [52, 29, 63, 4],
  memory: [65, 12, 52, 70],
  redis: [43, 50, 60],
};
const SEED_MS = 90_000;

/**
 * Seeds drawn with webhook subscribers (`--webhooks`), one per store: deliveries through a
 * kill -9 and a graceful restart with the receivers answering 5xx and refusing connections
 * (sqlite 22), two receivers behind a backlog of ~800 events, one failing while retention
 * empties the log (memory 10), trims around a graceful restart on Redis (redis 25).
 */
const WEBHOOK_SEEDS: Record<StoreKind, number[]> = {
  sqlite: [22],
  memory: [10],
  redis: [25],
};

/**
 * Hand-written schedules (`scenarios/`): the silent skip — stalled readers of a
 * backlog longer than the relay's read page, trimmed while they wait — and the same with
 * heartbeats firing while a backlog page is still being written, which once named a
 * position behind frames already sent — and a consumer group that acked, saw retention
 * empty the log, and then had to see the next events (SQLite once reused positions there).
 */
const SCENARIOS = ['silent-skip.json', 'heartbeat-behind-backlog.json', 'group-after-full-trim.json', 'gap-before-watermark.json'];

function expectPass(failures: string[], rerun: string): void {
  expect(failures, `fault checker failures; rerun and shrink with: ${rerun}`).toEqual([]);
}

function seedsOf(store: StoreKind, options: () => RunOptions) {
  for (const seed of SEEDS[store]) {
    it(`seed ${seed}`, { timeout: SEED_MS }, async () => {
      const result = await runSchedule(drawSchedule(seed, store, OPS), options());
      expectPass(result.failures, rerunCommand(store, seed, OPS));
    });
  }
}

function webhookSeedsOf(store: StoreKind, options: () => RunOptions) {
  for (const seed of WEBHOOK_SEEDS[store]) {
    it(`seed ${seed} with webhook subscribers`, { timeout: SEED_MS }, async () => {
      const result = await runSchedule(drawSchedule(seed, store, OPS, { webhooks: true }), options());
      expectPass(result.failures, rerunCommand(store, seed, OPS, undefined, undefined, { webhooks: true }));
    });
  }
}

const isWebhookOp = (op: Op) => op.kind === 'refuse' || op.kind === 'reject' || (op.kind === 'open' && op.as === 'webhook');

describe('fault checker: schedules', () => {
  it('draws the pinned seeds as it always has', () => {
    const draws = Object.entries(SEEDS).flatMap(([store, seeds]) => seeds.map((seed) => drawSchedule(seed, store as StoreKind, OPS)));
    expect(createHash('sha256').update(JSON.stringify(draws)).digest('hex')).toBe('c95595b7c5a170c462a0a595c54388534960505d8fda168987fad14162989205');
  });

  it('adds webhook subscribers without changing the rest of any schedule', () => {
    for (const store of ['sqlite', 'memory', 'redis'] as const) {
      for (let seed = 0; seed < 300; seed++) {
        const withWebhooks = drawSchedule(seed, store, 30, { webhooks: true });
        const plain = drawSchedule(seed, store, 30);
        expect(withWebhooks.ops.filter((op) => !isWebhookOp(op))).toEqual(plain.ops);
        expect(withWebhooks.settings).toEqual(plain.settings);
        expect(withWebhooks.ops.some((op) => op.kind === 'open' && op.as === 'webhook')).toBe(true);
      }
    }
  });
});

describe('fault checker: sqlite', () => {
  seedsOf('sqlite', () => ({}));
  webhookSeedsOf('sqlite', () => ({}));
  for (const name of SCENARIOS) {
    it(`scenario ${name}`, { timeout: SEED_MS }, async () => {
      const path = join(import.meta.dirname, 'scenarios', name);
      const schedule = { ...(JSON.parse(readFileSync(path, 'utf8')) as Schedule), store: 'sqlite' as const };
      const result = await runSchedule(schedule, {});
      expectPass(result.failures, rerunCommand('sqlite', schedule.seed, OPS, undefined, `test/check/scenarios/${name}`));
    });
  }
});

describe('fault checker: memory', () => {
  seedsOf('memory', () => ({}));
  webhookSeedsOf('memory', () => ({}));
});

describe.skipIf(skipRedis)('fault checker: redis', () => {
  let redis: CheckRedis | undefined;
  beforeAll(async () => {
    redis = await startCheckRedis();
  });
  afterAll(() => redis?.stop());
  seedsOf('redis', () => ({ redisUrl: redis!.url, flushRedis: () => redis!.flush() }));
  webhookSeedsOf('redis', () => ({ redisUrl: redis!.url, flushRedis: () => redis!.flush() }));
});
