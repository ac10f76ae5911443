import type { Logger } from './logger.js';

/** How often one kind of failure is logged while it keeps happening. */
export const REPEAT_INTERVAL_MS = 60_000;

/** Kinds of failure remembered at once; the least recently logged is forgotten first. */
const MAX_KINDS = 256;

/**
 * Logs a failure that repeats (a store outage hit by every provider retry and probe) once per
 * interval instead of once per occurrence: the first line at once, with its error; the same
 * failure again within the interval is only counted; the first one after the interval is
 * logged with `repeated`, how many were held back since the line before. Failures are the
 * same when the message, the other fields and the error's message chain are.
 */
export class RepeatedFailures {
  readonly #kinds = new Map<string, { loggedAt: number; held: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs: number = REPEAT_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  log(level: 'error' | 'warn', fields: { err: unknown } & Record<string, unknown>, msg: string): void {
    const { err, ...rest } = fields;
    const key = `${level} ${msg} ${JSON.stringify(rest)} ${messageChain(err)}`;
    const at = this.now();
    const kind = this.#kinds.get(key);
    if (kind && at - kind.loggedAt < this.intervalMs) {
      kind.held++;
      return;
    }
    this.#kinds.delete(key);
    if (this.#kinds.size >= MAX_KINDS) this.#kinds.delete(this.#kinds.keys().next().value!);
    this.#kinds.set(key, { loggedAt: at, held: 0 });
    this.logger[level](kind && kind.held > 0 ? { ...fields, repeated: kind.held } : fields, msg);
  }
}

/** `message ← cause's message ← …`: what makes two failures the same one. */
function messageChain(error: unknown): string {
  const messages: string[] = [];
  for (let e = error; e !== undefined && e !== null && messages.length < 5; e = (e as { cause?: unknown }).cause) {
    messages.push(e instanceof Error ? e.message : String(e));
  }
  return messages.join(' ← ');
}
