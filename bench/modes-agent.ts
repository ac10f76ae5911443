import { type ClientMode, createEventClient, type Event, type EventClient, type Subscription } from '../client/index.js';
import { countingFetch, newTraffic, type Traffic } from './modes-count.js';
import { BENCH_KEY, BENCH_PRINCIPAL, type RelayChild } from './modes-relay.js';

/** The agents of the `modes` benchmark: one `createEventClient` subscription per mode. */

export const DAY_MS = 86_400_000;
export const TYPES = ['ticket.created', 'payment.failed', 'order.delayed'];
/** The real settings the report is about. */
export const REAL = { heartbeatMs: 15_000, pollTimeoutMs: 25_000, tools1sMs: 1_000, tools30sMs: 30_000 };

/** Below this a scaled tools interval would be shorter than one loopback round trip. */
export const MIN_SCALED_INTERVAL_MS = 5;

export type ModeKey = 'push' | 'poll' | 'tools-1s' | 'tools-30s';

export interface ModeSpec {
  key: ModeKey;
  label: string;
  mode: ClientMode;
  /** The real pause (tools) or server wait (long poll) of one empty poll; 0 for push. */
  idleCycleMs: number;
}

export const MODES: ModeSpec[] = [
  { key: 'push', label: 'push (events/stream)', mode: 'push', idleCycleMs: 0 },
  { key: 'poll', label: 'long poll (events/poll, timeoutMs 25 s)', mode: 'poll', idleCycleMs: REAL.pollTimeoutMs },
  { key: 'tools-1s', label: 'tools polling, 1 s interval', mode: 'tools', idleCycleMs: REAL.tools1sMs },
  { key: 'tools-30s', label: 'tools polling, 30 s interval', mode: 'tools', idleCycleMs: REAL.tools30sMs },
];

export type Intervals = { pollTimeoutMs?: number; toolsIntervalMs?: number };

/** The real intervals per mode. */
export const REAL_INTERVALS: Record<ModeKey, Intervals> = {
  push: {},
  poll: { pollTimeoutMs: REAL.pollTimeoutMs },
  'tools-1s': { toolsIntervalMs: REAL.tools1sMs },
  'tools-30s': { toolsIntervalMs: REAL.tools30sMs },
};

export interface Agent {
  spec: ModeSpec;
  client: EventClient;
  sub: Subscription;
  traffic: Traffic;
  /** Event id → performance.now() when onEvent got it. */
  seen: Map<string, number>;
  order: string[];
  /** The kind of every onError report. */
  errors: string[];
}

export async function startAgent(relay: RelayChild, spec: ModeSpec, intervals: Intervals): Promise<Agent> {
  const traffic = newTraffic();
  const client = createEventClient({
    url: `${relay.url}/mcp`,
    token: BENCH_KEY,
    mode: spec.mode,
    fetch: countingFetch(traffic),
    heartbeatMs: REAL.heartbeatMs,
    ...intervals,
  });
  const seen = new Map<string, number>();
  const order: string[] = [];
  const errors: string[] = [];
  const sub = await client.subscribe({
    filter: { types: TYPES },
    ...(spec.mode === 'tools' ? { group: `${BENCH_PRINCIPAL}/${spec.key}` } : {}),
    onEvent: (event: Event) => {
      seen.set(event.id, performance.now());
      order.push(event.id);
    },
    onError: (error) => errors.push(error.kind),
  });
  return { spec, client, sub, traffic, seen, order, errors };
}
