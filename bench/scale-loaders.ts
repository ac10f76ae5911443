import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ChildPool, type Unnumbered } from './child-rpc.js';
import type { LoadCommand, PhaseResult, ProgressReport, ReplayResult } from './scale-load.js';

/**
 * The driver's side of the `scale` load generators (`scale-load.ts`): forked children
 * that share the subscribers of each server between them. They inherit this process's CPU
 * pinning, so they sit on the load generator's core, away from the server's.
 */

const SCRIPT = fileURLToPath(new URL('./scale-load.ts', import.meta.url));

export class LoadGenerators {
  readonly #pool: ChildPool<LoadCommand>;
  readonly #children: ChildProcess[];
  /** Per server URL and child: how many events every subscriber of that child has. */
  readonly #received = new Map<string, number[]>();
  /** Per server URL: how many subscriptions each child holds. */
  readonly #shares = new Map<string, number[]>();
  #onProgress: (() => void) | undefined;

  constructor(count: number) {
    this.#pool = new ChildPool<LoadCommand>(SCRIPT, count, (child, message) => this.#progress(child, message as ProgressReport));
    this.#children = this.#pool.children;
  }

  get pids(): number[] {
    return this.#pool.pids;
  }

  get size(): number {
    return this.#children.length;
  }

  /** Opens `count` live subscriptions to `url`, spread over the children, ids from `firstId`. */
  async open(url: string, count: number, firstId = 1): Promise<void> {
    const shares = this.#split(count);
    const held = this.#shares.get(url) ?? shares.map(() => 0);
    this.#shares.set(url, held.map((n, i) => n + shares[i]!));
    let id = firstId;
    await Promise.all(
      shares.map((share, i) => {
        const from = id;
        id += share;
        return share === 0 ? undefined : this.#call(this.#children[i]!, { type: 'open', url, firstId: from, count: share });
      }),
    );
  }

  /** Starts counting `events` new event frames on every subscription to `url`. */
  async phase(url: string, events: number): Promise<void> {
    // A child without subscriptions to `url` reports nothing and holds nobody back.
    this.#received.set(url, (this.#shares.get(url) ?? []).map((n) => (n === 0 ? Number.POSITIVE_INFINITY : 0)));
    await Promise.all(this.#children.map((c) => this.#call(c, { type: 'phase', url, events })));
  }

  /** How many events of the phase every subscriber to `url` has received. */
  received(url: string): number {
    return Math.min(...(this.#received.get(url) ?? [0]));
  }

  /** Resolves when `received(url)` reaches `events`, or rejects after `timeoutMs`. */
  async waitFor(url: string, events: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.received(url) < events) {
      if (Date.now() > deadline) throw new Error(`subscribers of ${url} have ${this.received(url)} of ${events} events after ${timeoutMs} ms`);
      await this.progress(Math.max(1, deadline - Date.now()));
    }
  }

  /** Resolves on the next progress report, or after `ms`. */
  progress(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#onProgress = done;
    });
  }

  async collect(url: string, commits: Float64Array): Promise<PhaseResult> {
    const parts = (await Promise.all(this.#children.map((c) => this.#call(c, { type: 'collect', url, commits })))) as PhaseResult[];
    const latencies = new Float64Array(parts.reduce((n, p) => n + p.latencies.length, 0));
    let at = 0;
    for (const part of parts) {
      latencies.set(part.latencies, at);
      at += part.latencies.length;
    }
    return {
      latencies,
      delivered: parts.reduce((n, p) => n + p.delivered, 0),
      bytes: parts.reduce((n, p) => n + p.bytes, 0),
      lastAt: Math.max(...parts.map((p) => p.lastAt)),
      lost: parts.reduce((n, p) => n + p.lost, 0),
    };
  }

  async close(url: string): Promise<void> {
    this.#shares.delete(url);
    await Promise.all(this.#children.map((c) => this.#call(c, { type: 'close', url })));
  }

  /** One subscriber reads `events` missed events after `cursor`, in the first child. */
  replay(url: string, cursor: string, events: number): Promise<ReplayResult> {
    return this.#call(this.#children[0]!, { type: 'replay', url, cursor, events }) as Promise<ReplayResult>;
  }

  stop(): void {
    this.#pool.stop();
  }

  kill(): void {
    this.#pool.kill();
  }

  #split(count: number): number[] {
    const n = this.#children.length;
    return this.#children.map((_, i) => Math.floor(count / n) + (i < count % n ? 1 : 0));
  }

  #call(child: ChildProcess, command: Unnumbered<LoadCommand>): Promise<unknown> {
    return this.#pool.call(child, command);
  }

  #progress(child: ChildProcess, report: ProgressReport): void {
    const counts = this.#received.get(report.url);
    const i = this.#children.indexOf(child);
    if (counts && report.received > counts[i]!) counts[i] = report.received;
    this.#onProgress?.();
  }
}
