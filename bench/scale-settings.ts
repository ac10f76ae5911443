import { parseArgs } from 'node:util';
import { PRINCIPALS } from './scale-commit.js';

/** What `npm run bench -- scale` runs, from its arguments (`--quick` for a short run). */
export interface ScaleSettings {
  subscribers: number;
  /** Timed fan-out events per server. */
  events: number;
  warmupEvents: number;
  rounds: number;
  window: number;
  replayEvents: number;
  replayPasses: number;
  /** Idle subscriber counts at which memory is read, ascending. */
  idle: number[];
  loaders: number;
  /** Timed seconds per server (ingest) and per store (append). */
  ingestSeconds: number;
  appendSeconds: number;
  /** Commit cost: group names and idle sessions on the relay with state, and the timed webhooks per relay. */
  commitGroups: number;
  commitSessions: number;
  commitWebhooks: number;
  /** Runs only this part (the others report no rows). */
  only: 'replay' | 'commit' | undefined;
}

const FULL: Omit<ScaleSettings, 'subscribers'> = {
  events: 600,
  warmupEvents: 100,
  rounds: 3,
  window: 8,
  replayEvents: 100_000,
  replayPasses: 2,
  idle: [1000, 10_000],
  loaders: 2,
  ingestSeconds: 4,
  appendSeconds: 3,
  commitGroups: 20_000,
  commitSessions: 2000,
  commitWebhooks: 3000,
  only: undefined,
};
const QUICK: Omit<ScaleSettings, 'subscribers'> = {
  ...FULL,
  events: 150,
  warmupEvents: 50,
  rounds: 2,
  replayEvents: 20_000,
  replayPasses: 1,
  idle: [1000],
  ingestSeconds: 2,
  appendSeconds: 1.5,
  commitGroups: 2000,
  commitSessions: 200,
  commitWebhooks: 600,
};
/** The relay's default bounds per principal, which the commit part stays within. */
const GROUPS_PER_PRINCIPAL = 256;
const SESSIONS_PER_PRINCIPAL = 64;

/** The settings `args` ask for; a usage error for anything out of range. */
export function parseSettings(args: string[]): ScaleSettings {
  const { values } = parseArgs({
    args,
    options: {
      subscribers: { type: 'string', default: '1000' },
      events: { type: 'string' },
      'replay-events': { type: 'string' },
      idle: { type: 'string' },
      window: { type: 'string' },
      loaders: { type: 'string' },
      'commit-groups': { type: 'string' },
      'commit-sessions': { type: 'string' },
      'commit-webhooks': { type: 'string' },
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
    },
  });
  const base = values.quick ? QUICK : FULL;
  const number = (text: string | undefined, fallback: number) => (text === undefined ? fallback : Number(text));
  const settings: ScaleSettings = {
    ...base,
    subscribers: Number(values.subscribers),
    events: number(values.events, base.events),
    replayEvents: number(values['replay-events'], base.replayEvents),
    idle: values.idle === undefined ? base.idle : values.idle.split(',').map(Number),
    window: number(values.window, base.window),
    loaders: number(values.loaders, base.loaders),
    commitGroups: number(values['commit-groups'], base.commitGroups),
    commitSessions: number(values['commit-sessions'], base.commitSessions),
    commitWebhooks: number(values['commit-webhooks'], base.commitWebhooks),
    only: values.only === 'replay' || values.only === 'commit' ? values.only : undefined,
  };
  const positive = (n: number) => Number.isInteger(n) && n > 0;
  /** Spread evenly over the principals, each within its default bound. */
  const within = (n: number, perPrincipal: number) => positive(n) && n % PRINCIPALS === 0 && n / PRINCIPALS <= perPrincipal;
  const valid =
    positive(settings.subscribers) &&
    settings.subscribers <= 10_000 &&
    positive(settings.events) &&
    positive(settings.replayEvents) &&
    positive(settings.window) &&
    positive(settings.loaders) &&
    (values.only === undefined || settings.only !== undefined) &&
    settings.idle.length > 0 &&
    settings.idle.every((n, i) => positive(n) && n <= 10_000 && (i === 0 || n > settings.idle[i - 1]!)) &&
    within(settings.commitGroups, GROUPS_PER_PRINCIPAL) &&
    within(settings.commitSessions, SESSIONS_PER_PRINCIPAL) &&
    positive(settings.commitWebhooks);
  if (!valid) {
    throw new Error(
      'usage: scale [--subscribers <n ≤ 10000>=1000] [--events <fan-out events per server>=600] [--replay-events <n>=100000] ' +
        '[--idle <ascending counts ≤ 10000>=1000,10000] [--window <events in flight>=8] [--loaders <processes>=2] ' +
        `[--commit-groups <multiple of ${PRINCIPALS} ≤ ${PRINCIPALS * GROUPS_PER_PRINCIPAL}>=20000] [--commit-sessions <multiple of ${PRINCIPALS} ≤ ${PRINCIPALS * SESSIONS_PER_PRINCIPAL}>=2000] [--commit-webhooks <per relay>=3000] ` +
        '[--quick] [--only replay|commit]',
    );
  }
  return settings;
}
