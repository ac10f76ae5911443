import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Agent, MODES, type ModeKey, REAL_INTERVALS, startAgent, TYPES } from './modes-agent.js';
import { postWebhook, startRelayChild } from './modes-relay.js';

/**
 * Phase 3 of `modes`: how soon each mode delivers again after the relay restarts. One relay
 * child with its SQLite log in a temp dir, so the log, the cursors the agents hold and the
 * tools group survive a restart, on a port that stays the same. The agents run with the
 * real settings. Each round: a webhook every agent receives (so each is connected and caught
 * up), the relay stopped (SIGKILL, or SIGTERM), started again on the same port and file, and
 * once `/healthz` answers one webhook. Recovery = onEvent of that webhook − the moment
 * `/healthz` answered; it includes the webhook's own commit and the client's reconnect.
 */

export type Stop = 'kill' | 'term';
export const STOPS: readonly Stop[] = ['kill', 'term'];
export const STOP_LABELS: Record<Stop, string> = { kill: 'kill -9', term: 'SIGTERM' };

/** Tools at 30 s would measure its own interval, not recovery. */
export const RECOVERY_MODES = MODES.filter((spec) => spec.key !== 'tools-30s');
/** The issue-13 target: the first new event within 2 s of `/healthz` answering after a kill -9. */
export const RECOVERY_TARGET_MS = 2_000;
/** Longer than the old push client took (two missed 15 s heartbeats), so it is measured too. */
const DEADLINE_MS = 45_000;

export interface RecoveryResult {
  runs: number;
  /** ms from `/healthz` answering again to onEvent, per stop and mode. */
  samples: Record<Stop, Partial<Record<ModeKey, number[]>>>;
  /** ms from the signal to `/healthz` answering again, per stop. */
  downMs: Record<Stop, number[]>;
  problems: string[];
}

export async function recoveryPhase(runs: number): Promise<RecoveryResult> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-modes-recovery-'));
  const env = { RELAY_STORE: `sqlite:${join(dir, 'relay.db')}` };
  let relay = await startRelayChild(env);
  const port = Number(new URL(relay.url).port);
  const result: RecoveryResult = { runs, samples: { kill: {}, term: {} }, downMs: { kill: [], term: [] }, problems: [] };
  const agents: Agent[] = [];
  const posted: string[] = [];
  /** Posts one webhook and waits until every agent has it; resolves with its id. */
  const deliver = async () => {
    const { id } = await postWebhook(relay.url, TYPES[posted.length % TYPES.length]!);
    posted.push(id);
    const deadline = performance.now() + DEADLINE_MS;
    while (performance.now() < deadline && agents.some((a) => !a.seen.has(id))) await sleep(5);
    for (const agent of agents) if (!agent.seen.has(id)) result.problems.push(`recovery: ${agent.spec.key} did not get an event within ${DEADLINE_MS / 1000} s`);
    return id;
  };
  try {
    for (const spec of RECOVERY_MODES) agents.push(await startAgent(relay, spec, REAL_INTERVALS[spec.key]));
    for (let run = 0; run < runs; run++) {
      for (const stop of STOPS) {
        await deliver();
        const signalled = performance.now();
        await (stop === 'kill' ? relay.kill() : relay.stop());
        relay = await startRelayChild(env, port);
        result.downMs[stop].push(relay.readyAt - signalled);
        const id = await deliver();
        for (const agent of agents) {
          const at = agent.seen.get(id);
          if (at !== undefined) (result.samples[stop][agent.spec.key] ??= []).push(at - relay.readyAt);
        }
      }
    }
    for (const agent of agents) {
      if (agent.order.join() !== posted.filter((id) => agent.seen.has(id)).join()) result.problems.push(`recovery: ${agent.spec.key} saw events out of order or twice`);
      // Reconnects are what this phase provokes; anything else (a gap) means a cursor was lost.
      for (const kind of agent.errors) if (kind !== 'connection') result.problems.push(`recovery: ${agent.spec.key} reported ${kind}`);
    }
    return result;
  } finally {
    for (const agent of agents) await agent.client.close().catch(() => undefined);
    await relay.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
