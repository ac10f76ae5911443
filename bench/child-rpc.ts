import { type ChildProcess, fork } from 'node:child_process';
import os from 'node:os';

/**
 * Load-generator processes a benchmark drives over IPC (`scale-loaders.ts`,
 * `latency-loaders.ts`): forked children of one script that answer each command with a
 * `done` reply carrying its `req`. Other messages (progress reports) go to `onMessage`. The
 * children inherit this process's CPU pinning.
 */

/** What a child answers a command with. */
export interface DoneReply {
  type: 'done';
  req: number;
  error?: string;
  result?: unknown;
}

/** A command without the `req` the pool numbers it with. */
export type Unnumbered<C> = C extends { req: number } ? Omit<C, 'req'> : never;

export class ChildPool<Command extends { req: number }> {
  readonly children: ChildProcess[];
  readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  #nextReq = 1;

  /** `nice`: the children's priority, below this process's when positive. */
  constructor(script: string, count: number, onMessage: (child: ChildProcess, message: unknown) => void = () => undefined, nice = 0) {
    this.children = Array.from({ length: count }, () => {
      const child = fork(script, [], { execArgv: ['--import', 'tsx'], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      if (nice !== 0) os.setPriority(child.pid!, nice);
      child.on('message', (message: DoneReply | { type: string }) => {
        if (message.type !== 'done') return onMessage(child, message);
        const { req, error, result } = message as DoneReply;
        const pending = this.#pending.get(req);
        this.#pending.delete(req);
        if (error !== undefined) pending?.reject(new Error(error));
        else pending?.resolve(result);
      });
      child.on('exit', (code, signal) => {
        for (const { reject } of this.#pending.values()) reject(new Error(`a load generator exited (${code ?? signal})`));
        this.#pending.clear();
      });
      return child;
    });
  }

  get pids(): number[] {
    return this.children.map((c) => c.pid!);
  }

  call(child: ChildProcess, command: Unnumbered<Command>): Promise<unknown> {
    const req = this.#nextReq++;
    return new Promise((resolve, reject) => {
      this.#pending.set(req, { resolve, reject });
      child.send({ ...command, req });
    });
  }

  /** The same command to every child; their results in child order. */
  callAll(command: Unnumbered<Command>): Promise<unknown[]> {
    return Promise.all(this.children.map((child) => this.call(child, command)));
  }

  stop(): void {
    for (const child of this.children) if (child.connected) child.disconnect();
  }

  kill(): void {
    for (const child of this.children) child.kill('SIGKILL');
  }
}

/** The child's side: runs each command through `handle` and answers with its `done` reply. */
export function serveCommands<Command extends { req: number }>(handle: (command: Command) => Promise<unknown>): void {
  process.on('message', (command: Command) => {
    handle(command).then(
      (result) => process.send?.({ type: 'done', req: command.req, result } satisfies DoneReply),
      (error: unknown) => process.send?.({ type: 'done', req: command.req, error: error instanceof Error ? error.message : String(error) } satisfies DoneReply),
    );
  });
  process.on('disconnect', () => process.exit(0));
}
