import { serveCommands } from './child-rpc.js';
import { type FrameSink, type Subscriber, type SubscriberKind, subscribe } from './latency-subscriber.js';

/**
 * A load-generator process of the `latency` benchmark (driven over IPC by `latency-loaders.ts`):
 * it holds subscribers to a server and notes when each event frame arrived. Log order is
 * checked here: every subscriber's k-th event must be the k-th event this process saw first.
 */

export type LatencyCommand =
  | { type: 'open'; req: number; url: string; key: string | undefined; kinds: SubscriberKind[]; firstId: number; events: number }
  | { type: 'status'; req: number; url: string }
  | { type: 'collect'; req: number; url: string }
  | { type: 'close'; req: number; url: string };

export interface SubscriberResult {
  kind: SubscriberKind;
  /** Arrival (shared clock, ms) of this subscriber's k-th event frame. */
  arrivals: Float64Array;
  /** Frames whose event was not the k-th this process saw first: out of order, missed or repeated. */
  misordered: number;
  /** The stream ended before it was closed. */
  ended: boolean;
}

export interface CollectResult {
  /** Event ids in the order this process first saw them. */
  order: string[];
  subscribers: SubscriberResult[];
}

/** Connections opened at once: below the servers' listen backlog (511). */
const CONNECT_BATCH = 100;

class Held implements FrameSink {
  count = 0;
  misordered = 0;
  ended = false;
  /** Sized for the run's events up front: growing it would hand the GC a large buffer at a time mid-run. */
  arrivals: Float64Array;
  subscriber: Subscriber | undefined;

  constructor(
    readonly kind: SubscriberKind,
    private readonly population: Population,
    events: number,
  ) {
    this.arrivals = new Float64Array(Math.max(1, events));
  }

  event(frame: Buffer, idStart: number, idEnd: number, at: number): void {
    const k = this.count++;
    if (k === this.arrivals.length) {
      const grown = new Float64Array(k * 2);
      grown.set(this.arrivals);
      this.arrivals = grown;
    }
    this.arrivals[k] = at;
    if (!this.population.isKth(frame, idStart, idEnd, k)) this.misordered++;
  }
}

class Population {
  readonly held: Held[] = [];
  readonly order: string[] = [];
  /** `order` as bytes, compared in place: a reader of 100,000 frames/s allocates nothing per frame. */
  readonly #orderBytes: Buffer[] = [];

  constructor(readonly url: string) {}

  /** Whether the id in `frame[start, end)` is the k-th event seen; the first subscriber to see a k-th event sets it. */
  isKth(frame: Buffer, start: number, end: number, k: number): boolean {
    if (k === this.order.length) {
      this.#orderBytes.push(Buffer.from(frame.subarray(start, end)));
      this.order.push(frame.toString('latin1', start, end));
      return true;
    }
    const expected = this.#orderBytes[k];
    if (expected === undefined || expected.length !== end - start) return false;
    for (let i = 0; i < expected.length; i++) if (expected[i] !== frame[start + i]) return false;
    return true;
  }

  async open(key: string | undefined, kinds: SubscriberKind[], firstId: number, events: number): Promise<void> {
    for (let from = 0; from < kinds.length; from += CONNECT_BATCH) {
      const batch = kinds.slice(from, from + CONNECT_BATCH).map((kind, i) => {
        const held = new Held(kind, this, events);
        held.subscriber = subscribe({ kind, url: this.url, key, id: firstId + from + i }, held);
        void held.subscriber.ended.then(() => (held.ended = true));
        this.held.push(held);
        return held.subscriber.started;
      });
      await Promise.all(batch);
    }
  }

  /** The fewest events any subscriber has. */
  status(): number {
    return Math.min(...this.held.map((h) => h.count));
  }

  collect(): CollectResult {
    return {
      order: this.order,
      subscribers: this.held.map((h) => ({ kind: h.kind, arrivals: h.arrivals.slice(0, h.count), misordered: h.misordered, ended: h.ended })),
    };
  }

  async close(): Promise<void> {
    for (const h of this.held) h.subscriber?.close();
    await Promise.all(this.held.map((h) => h.subscriber?.ended));
  }
}

const populations = new Map<string, Population>();

async function handle(command: LatencyCommand): Promise<unknown> {
  switch (command.type) {
    case 'open': {
      const population = populations.get(command.url) ?? new Population(command.url);
      populations.set(command.url, population);
      await population.open(command.key, command.kinds, command.firstId, command.events);
      return undefined;
    }
    // A process holding none of a server's subscribers holds nobody back.
    case 'status':
      return populations.get(command.url)?.status() ?? Number.POSITIVE_INFINITY;
    case 'collect':
      return populations.get(command.url)?.collect() ?? { order: [], subscribers: [] };
    case 'close': {
      const population = populations.get(command.url);
      populations.delete(command.url);
      await population?.close();
      return undefined;
    }
  }
}

serveCommands(handle);
