import { fileURLToPath } from 'node:url';
import { ChildPool } from './child-rpc.js';
import type { CollectResult, LatencyCommand } from './latency-load.js';
import type { SubscriberKind } from './latency-subscriber.js';

/**
 * The driver's side of the `latency` load generators (`latency-load.ts`): forked children that
 * share each server's subscribers between them. They inherit this process's CPU pinning, so
 * they sit on the load generator's core, away from the server's, at a lower priority than the
 * publisher in this process.
 */

const SCRIPT = fileURLToPath(new URL('./latency-load.ts', import.meta.url));
/** Below the publisher, which shares their core: its sends keep to their schedule. */
const LOADER_NICE = 10;

export class LatencyLoaders {
  readonly #pool: ChildPool<LatencyCommand>;

  constructor(count: number) {
    this.#pool = new ChildPool<LatencyCommand>(SCRIPT, count, undefined, LOADER_NICE);
  }

  get pids(): number[] {
    return this.#pool.pids;
  }

  /** Opens one live subscriber per entry of `kinds` to `url`, dealt round the children, each expecting `events` frames; ids from 1. */
  async open(url: string, key: string | undefined, kinds: readonly SubscriberKind[], events: number): Promise<void> {
    const children = this.#pool.children;
    const shares = children.map((): SubscriberKind[] => []);
    kinds.forEach((kind, i) => shares[i % shares.length]!.push(kind));
    let firstId = 1;
    await Promise.all(
      shares.map((share, i) => {
        const from = firstId;
        firstId += share.length;
        return share.length === 0 ? undefined : this.#pool.call(children[i]!, { type: 'open', url, key, kinds: share, firstId: from, events });
      }),
    );
  }

  /** The fewest events any subscriber to `url` has received. */
  async received(url: string): Promise<number> {
    return Math.min(...((await this.#pool.callAll({ type: 'status', url })) as number[]));
  }

  /** What each child's subscribers received, one result per child. */
  collect(url: string): Promise<CollectResult[]> {
    return this.#pool.callAll({ type: 'collect', url }) as Promise<CollectResult[]>;
  }

  async close(url: string): Promise<void> {
    await this.#pool.callAll({ type: 'close', url });
  }

  stop(): void {
    this.#pool.stop();
  }

  kill(): void {
    this.#pool.kill();
  }
}
