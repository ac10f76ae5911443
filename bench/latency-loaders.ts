import { type ChildProcess, fork } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { CollectResult, LatencyCommand, LatencyReply } from './latency-load.js';
import type { SubscriberKind } from './latency-subscriber.js';

/**
 * The driver's side of the `latency` load generators (`latency-load.ts`): forked children that
 * share each server's subscribers between them. They inherit this process's CPU pinning, so
 * they sit on the load generator's core, away from the server's, at a lower priority than the
 * publisher in this process.
 */

const SCRIPT = fileURLToPath(new URL('./latency-load.ts', import.meta.url));
const LOADER_NICE = 10;

type Command = LatencyCommand extends infer C ? (C extends { req: number } ? Omit<C, 'req'> : never) : never;

export class LatencyLoaders {
  readonly #children: ChildProcess[];
  readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  #nextReq = 1;

  constructor(count: number) {
    this.#children = Array.from({ length: count }, () => {
      const child = fork(SCRIPT, [], { execArgv: ['--import', 'tsx'], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      // Below the publisher, which shares their core: its sends keep to their schedule.
      os.setPriority(child.pid!, LOADER_NICE);
      child.on('message', (reply: LatencyReply) => {
        const pending = this.#pending.get(reply.req);
        this.#pending.delete(reply.req);
        if (reply.error !== undefined) pending?.reject(new Error(reply.error));
        else pending?.resolve(reply.result);
      });
      child.on('exit', (code, signal) => {
        for (const { reject } of this.#pending.values()) reject(new Error(`a load generator exited (${code ?? signal})`));
        this.#pending.clear();
      });
      return child;
    });
  }

  get pids(): number[] {
    return this.#children.map((c) => c.pid!);
  }

  /** Opens one live subscriber per entry of `kinds` to `url`, dealt round the children; ids from 1. */
  async open(url: string, key: string | undefined, kinds: readonly SubscriberKind[]): Promise<void> {
    const shares = this.#children.map((): SubscriberKind[] => []);
    kinds.forEach((kind, i) => shares[i % shares.length]!.push(kind));
    let firstId = 1;
    await Promise.all(
      shares.map((share, i) => {
        const from = firstId;
        firstId += share.length;
        return share.length === 0 ? undefined : this.#call(this.#children[i]!, { type: 'open', url, key, kinds: share, firstId: from });
      }),
    );
  }

  /** The fewest events any subscriber to `url` has received. */
  async received(url: string): Promise<number> {
    const counts = (await Promise.all(this.#children.map((c) => this.#call(c, { type: 'status', url })))) as number[];
    return Math.min(...counts);
  }

  /** What each child's subscribers received, one result per child. */
  collect(url: string): Promise<CollectResult[]> {
    return Promise.all(this.#children.map((c) => this.#call(c, { type: 'collect', url }))) as Promise<CollectResult[]>;
  }

  async close(url: string): Promise<void> {
    await Promise.all(this.#children.map((c) => this.#call(c, { type: 'close', url })));
  }

  stop(): void {
    for (const child of this.#children) if (child.connected) child.disconnect();
  }

  kill(): void {
    for (const child of this.#children) child.kill('SIGKILL');
  }

  #call(child: ChildProcess, command: Command): Promise<unknown> {
    const req = this.#nextReq++;
    return new Promise((resolve, reject) => {
      this.#pending.set(req, { resolve, reject });
      child.send({ ...command, req });
    });
  }
}
