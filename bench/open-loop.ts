import { Agent, type IncomingMessage, request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Delivery, DeliveryPool } from './ingest-deliveries.js';
import { ROUTE } from './ingest-runner.js';
import { sharedNow } from './sse-subscription.js';

/**
 * An open-loop publisher: request `i` goes out at its scheduled time whether or not earlier
 * ones have been answered, so a slow server cannot slow the schedule down, and latency is
 * measured from the scheduled time (no coordinated omission). Used by `webhooks` and `latency`.
 */

/** Resolves with the status and body once the whole response is in. */
export function post(url: string, headers: Record<string, string | number>, body: Buffer | string, agent: Agent | false): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The last stretch before a send is waited in slices this long (ms), with the loop's I/O served between them. */
const SLICE_MS = 0.1;
const futex = new Int32Array(new SharedArrayBuffer(4));

/**
 * Waits until the shared clock reaches `at` (ms), within about {@link SLICE_MS}: a timer
 * fires on a whole millisecond and often one late, which would make every send up to 2 ms
 * late and count the publisher's tardiness against the server. So a timer covers all but
 * the last millisecond, and the rest is slept in short futex waits (the process's CPU stays
 * free for the subscribers), each followed by a turn of the loop, so answers that arrive
 * meanwhile are timed when they arrive.
 */
export async function until(at: number): Promise<void> {
  for (let wait = at - sharedNow(); wait > 0; wait = at - sharedNow()) {
    if (wait > 1.5) await sleep(Math.floor(wait - 1));
    else {
      Atomics.wait(futex, 0, 0, Math.min(wait, SLICE_MS));
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
}

/** `count` send times `1000 / rate` ms apart, from `leadMs` after now, on the shared clock. */
export function schedule(count: number, rate: number, leadMs = 50): number[] {
  const start = sharedNow() + leadMs;
  return Array.from({ length: count }, (_, i) => start + (i * 1000) / rate);
}

/** One request of the schedule: resolves with a key that sorts in the server's delivery order. */
export type Send = (i: number, agent: Agent) => Promise<string>;

export interface OpenLoopResult {
  /** What each request's answer named, in schedule order. */
  keys: string[];
  /** When each request actually went out, and when its answer was whole (shared clock, ms). */
  sentAt: Float64Array;
  answeredAt: Float64Array;
}

/** Sends request `i` at `times[i]` over keep-alive connections; resolves once all are answered. */
export async function openLoop(times: readonly number[], send: Send): Promise<OpenLoopResult> {
  // A connection idle for the server's keep-alive timeout (Node's 5 s, the relay's default)
  // is closed by the server; a send on it in that instant is reset and fails the run. Idle
  // connections are closed here first.
  const agent = new Agent({ keepAlive: true, timeout: 2_000 });
  const sentAt = new Float64Array(times.length);
  const answeredAt = new Float64Array(times.length);
  const answers: Promise<string>[] = [];
  // The first send that failed (a reset connection, a wrong answer): the schedule stops there.
  let failure: { error: unknown } | undefined;
  try {
    for (const [i, at] of times.entries()) {
      if (failure !== undefined) break;
      await until(at);
      sentAt[i] = sharedNow();
      const answer = send(i, agent).then((key) => {
        answeredAt[i] = sharedNow();
        return key;
      });
      answer.catch((error: unknown) => (failure ??= { error }));
      answers.push(answer);
    }
    await Promise.allSettled(answers);
    if (failure !== undefined) throw failure.error;
    return { keys: await Promise.all(answers), sentAt, answeredAt };
  } finally {
    agent.destroy();
  }
}

/** The provider's side: delivery `i` of the pool, signed, to the relay's webhook route; the key is the log id. */
export function webhookSend(relay: string, pool: DeliveryPool): Send {
  return async (i, agent) => {
    const { headers, body }: Delivery = pool.delivery(i);
    const answer = await post(`${relay}${ROUTE}`, headers, body, agent);
    const id = answer.status === 200 ? (JSON.parse(answer.body) as { id?: string; duplicate?: boolean }) : undefined;
    if (id?.id === undefined || id.duplicate !== false) throw new Error(`webhook ${i} answered ${answer.status} ${answer.body}`);
    return id.id;
  };
}
