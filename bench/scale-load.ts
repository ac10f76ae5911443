import { serveCommands } from './child-rpc.js';
import { sharedNow, type Subscription, subscribe } from './sse-subscription.js';

/**
 * A load-generator process of the `scale` benchmark (started by `scale-loaders.ts` over IPC):
 * it holds subscriptions to a server, records when each event frame arrives, and tells
 * the driver when every one of its subscribers has an event, so the driver can keep a
 * bounded number of events in flight. Living outside the server's process, it lets the
 * server's CPU be measured alone.
 */

export type LoadCommand =
  | { type: 'open'; req: number; url: string; firstId: number; count: number }
  | { type: 'phase'; req: number; url: string; events: number }
  | { type: 'collect'; req: number; url: string; commits: Float64Array }
  | { type: 'close'; req: number; url: string }
  | { type: 'replay'; req: number; url: string; cursor: string; events: number };

/** Sent unasked: every subscriber of this process has the phase's first `received` events. */
export interface ProgressReport {
  type: 'progress';
  url: string;
  received: number;
}

export interface PhaseResult {
  /** Arrival − commit, in ms, for every (subscriber, event) of the phase. */
  latencies: Float64Array;
  /** Event frames that arrived during the phase, and their bytes. */
  delivered: number;
  bytes: number;
  /** When the last frame of the phase arrived (shared clock). */
  lastAt: number;
  /** Subscriptions whose stream ended during the phase. */
  lost: number;
}

export interface ReplayResult {
  seconds: number;
  bytes: number;
}

/** Connections opened at once: below the servers' listen backlog (511). */
const CONNECT_BATCH = 250;

class Population {
  readonly subscriptions: Subscription[] = [];
  ended = 0;
  #events = 0;
  #base: number[] = [];
  #bytesBase = 0;
  #receipts = new Float64Array(0);
  #reached = new Uint32Array(0);
  #lastAt = 0;
  #endedBase = 0;

  constructor(readonly url: string) {}

  async open(firstId: number, count: number): Promise<void> {
    for (let from = 0; from < count; from += CONNECT_BATCH) {
      const batch: Promise<void>[] = [];
      for (let i = from; i < Math.min(count, from + CONNECT_BATCH); i++) {
        const index = this.subscriptions.length;
        const subscription = subscribe({ url: this.url, id: firstId + i, cursor: null }, (n) => this.#arrived(index, n));
        void subscription.ended.then(() => this.ended++);
        this.subscriptions.push(subscription);
        batch.push(subscription.started);
      }
      await Promise.all(batch);
    }
  }

  phase(events: number): void {
    this.#events = events;
    this.#base = this.subscriptions.map((s) => s.counter.events);
    this.#bytesBase = this.#bytes();
    this.#receipts = new Float64Array(this.subscriptions.length * events);
    this.#reached = new Uint32Array(events);
    this.#lastAt = 0;
    this.#endedBase = this.ended;
  }

  collect(commits: Float64Array): PhaseResult {
    const n = this.subscriptions.length;
    const latencies = new Float64Array(n * this.#events);
    let delivered = 0;
    for (let s = 0; s < n; s++) {
      for (let k = 0; k < this.#events; k++) {
        const at = this.#receipts[s * this.#events + k]!;
        if (at === 0) continue;
        latencies[delivered++] = at - commits[k]!;
      }
    }
    return { latencies: latencies.slice(0, delivered), delivered, bytes: this.#bytes() - this.#bytesBase, lastAt: this.#lastAt, lost: this.ended - this.#endedBase };
  }

  close(): Promise<void> {
    for (const s of this.subscriptions) s.close();
    return Promise.all(this.subscriptions.map((s) => s.ended)).then(() => undefined);
  }

  #bytes(): number {
    return this.subscriptions.reduce((sum, s) => sum + s.counter.bytes, 0);
  }

  #arrived(subscriber: number, index: number): void {
    const k = index - (this.#base[subscriber] ?? 0);
    if (k < 0 || k >= this.#events) return;
    const at = sharedNow();
    this.#receipts[subscriber * this.#events + k] = at;
    this.#lastAt = at;
    // Each stream is in log order, so "all subscribers have event k" becomes true in k order.
    if (++this.#reached[k]! === this.subscriptions.length) send({ type: 'progress', url: this.url, received: k + 1 });
  }
}

const populations = new Map<string, Population>();

function populationOf(url: string): Population {
  const population = populations.get(url);
  if (!population) throw new Error(`no subscriptions to ${url}`);
  return population;
}

function send(report: ProgressReport): void {
  process.send?.(report);
}

async function replay(url: string, cursor: string, events: number): Promise<ReplayResult> {
  let done!: () => void;
  const all = new Promise<void>((resolve) => (done = resolve));
  const start = sharedNow();
  let end = 0;
  const subscription = subscribe({ url, id: 1, cursor }, (n) => {
    if (n + 1 === events) {
      end = sharedNow();
      done();
    }
  });
  await Promise.race([all, subscription.ended]);
  subscription.close();
  await subscription.ended;
  if (end === 0) throw new Error(`the replay stream ended after ${subscription.counter.events} of ${events} events`);
  return { seconds: (end - start) / 1000, bytes: subscription.counter.bytes };
}

async function handle(command: LoadCommand): Promise<unknown> {
  switch (command.type) {
    case 'open': {
      const population = populations.get(command.url) ?? new Population(command.url);
      populations.set(command.url, population);
      await population.open(command.firstId, command.count);
      return undefined;
    }
    case 'phase':
      populationOf(command.url).phase(command.events);
      return undefined;
    case 'collect':
      return populationOf(command.url).collect(command.commits);
    case 'close': {
      const population = populations.get(command.url);
      populations.delete(command.url);
      await population?.close();
      return undefined;
    }
    case 'replay':
      return replay(command.url, command.cursor, command.events);
  }
}

serveCommands(handle);
