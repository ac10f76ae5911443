import { performance } from 'node:perf_hooks';
import type { Event } from '../events/event.js';
import { compileFilter, type EventMatcher } from '../events/filter.js';
import { openReader, type Reader } from '../delivery/reader.js';
import type { ClaimedEvent, EventLog } from '../log/event-log.js';
import type { CustomerMemory } from '../customer-memory/customer-memory.js';
import type { EmitOptions, ReactionContext, ReactionHandler } from './handler.js';
import { RunRecorder } from './run-recorder.js';

/** The consumer group reactions claim in; principals cannot contain "/", so no agent shares it. */
export const REACTIONS_GROUP = 'relay/reactions';

/** What the runner logs through (a pino logger fits). */
export interface ReactionLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ReactionRunnerOptions {
  log: EventLog;
  memory: CustomerMemory;
  handlers: readonly ReactionHandler[];
  /** Base of links in derived events (`RELAY_PUBLIC_URL`). */
  publicUrl: string;
  group?: string;
  /**
   * The reactions' lease (1 s – 1 h, default 30 s): how long a run may take, and the delay
   * before a failed event is retried (a failed event is not released, its lease runs out).
   */
  leaseMs?: number;
  /** Events per claim (1–100, default 20). */
  batchSize?: number;
  recorder?: RunRecorder;
  logger?: ReactionLogger;
}

interface CompiledHandler {
  handler: ReactionHandler;
  matches: EventMatcher;
}

const silent: ReactionLogger = { warn() {}, error() {} };

/**
 * Runs the handlers over the log as one internal consumer group: claims in log order, runs
 * every matching handler of an event one after the other, and acks the event when all of
 * them succeeded (events no handler matches are acked at once, so the group's floor moves).
 * A failed event keeps its lease and comes back when it ends; the log dead-letters it after
 * `maxDeliveries`. Woken by appends (a log follower) and, as a backstop, every lease period.
 */
export class ReactionRunner {
  readonly group: string;
  readonly recorder: RunRecorder;
  readonly #log: EventLog;
  readonly #memory: CustomerMemory;
  readonly #handlers: CompiledHandler[];
  readonly #publicUrl: string;
  readonly #leaseMs: number;
  readonly #batchSize: number;
  readonly #logger: ReactionLogger;
  #reader: Reader | null = null;
  #backstop: NodeJS.Timeout | null = null;
  #retry: NodeJS.Timeout | null = null;
  #draining: Promise<void> | null = null;
  #again = false;
  #stopped = false;

  constructor(options: ReactionRunnerOptions) {
    this.#log = options.log;
    this.#memory = options.memory;
    this.#handlers = options.handlers.map((handler) => ({
      handler,
      matches: compileFilter({ types: typeof handler.on === 'string' ? [handler.on] : [...handler.on] }),
    }));
    this.#publicUrl = options.publicUrl.replace(/\/+$/, '');
    this.group = options.group ?? REACTIONS_GROUP;
    this.#leaseMs = Math.min(3_600_000, Math.max(1000, options.leaseMs ?? 30_000));
    this.#batchSize = Math.min(100, Math.max(1, options.batchSize ?? 20));
    this.recorder = options.recorder ?? new RunRecorder();
    this.#logger = options.logger ?? silent;
  }

  /** Creates the group (from the start of the retained log), then reacts to the backlog and every append. */
  async start(): Promise<void> {
    await this.#log.createGroup(this.group, { from: 'start' });
    this.#reader = openReader(
      this.#log,
      { after: await this.#log.head() },
      {
        events: () => this.#wake(),
        gap: () => this.#wake(),
        failed: (error) => this.#logger.error({ err: error }, 'reactions: the log could not be followed; claiming every lease period'),
      },
    );
    this.#backstop = setInterval(() => this.#wake(), this.#leaseMs);
    this.#backstop.unref();
    this.#wake();
  }

  /** Claims and runs until nothing is claimable now; resolves when done. */
  drain(): Promise<void> {
    this.#wake();
    return this.#draining ?? Promise.resolve();
  }

  /** Stops claiming, lets the event in hand finish, and returns. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#reader?.stop();
    if (this.#backstop) clearInterval(this.#backstop);
    if (this.#retry) clearTimeout(this.#retry);
    await this.#draining;
  }

  #wake(): void {
    if (this.#stopped) return;
    if (this.#draining) {
      this.#again = true;
      return;
    }
    this.#draining = this.#drainLoop().finally(() => {
      this.#draining = null;
    });
  }

  async #drainLoop(): Promise<void> {
    let earliestRetry = Infinity;
    do {
      this.#again = false;
      for (;;) {
        if (this.#stopped) return;
        let batch: ClaimedEvent[];
        try {
          batch = await this.#log.claim(this.group, { limit: this.#batchSize, leaseMs: this.#leaseMs });
        } catch (error) {
          this.#logger.error({ err: error }, 'reactions: claim failed');
          return;
        }
        if (batch.length === 0) break;
        const done: string[] = [];
        for (const event of batch) {
          if (this.#stopped) break;
          if (await this.#react(event)) done.push(event.id);
          else earliestRetry = Math.min(earliestRetry, event.leaseExpiresAt);
        }
        if (done.length > 0) {
          await this.#log.ack(this.group, done).catch((error: unknown) => this.#logger.warn({ err: error, ids: done }, 'reactions: ack failed; the events will run again'));
        }
      }
    } while (this.#again);
    if (earliestRetry !== Infinity) this.#scheduleRetry(earliestRetry);
  }

  #scheduleRetry(at: number): void {
    if (this.#retry) clearTimeout(this.#retry);
    // A little after the lease ends, so the claim sees it expired.
    this.#retry = setTimeout(() => this.#wake(), Math.max(0, at - Date.now()) + 20);
    this.#retry.unref();
  }

  /** True when every matching handler succeeded (or skipped). */
  async #react(event: ClaimedEvent): Promise<boolean> {
    let ok = true;
    for (const { handler, matches } of this.#handlers) {
      if (!matches(event)) continue;
      const started = performance.now();
      let outcome: 'succeeded' | 'failed' | 'skipped';
      try {
        outcome = (await handler.handle(event, this.#context(handler, event))) === 'skipped' ? 'skipped' : 'succeeded';
      } catch (error) {
        outcome = 'failed';
        ok = false;
        this.#logger.warn(
          { err: error, handler: handler.name, eventId: event.id, type: event.type, deliveryCount: event.deliveryCount },
          'reactions: handler failed; the event will be retried when its lease ends',
        );
      }
      this.recorder.record({ handler: handler.name, eventId: event.id, eventType: event.type, outcome, durationMs: performance.now() - started });
    }
    return ok;
  }

  #context(handler: ReactionHandler, cause: ClaimedEvent): ReactionContext {
    return {
      memory: this.#memory,
      publicUrl: this.#publicUrl,
      deliveryCount: cause.deliveryCount,
      emit: async (type, data, options) => {
        await this.#log.append(derivedEvent(cause, handler.name, type, data, options));
      },
    };
  }
}

/** The derived event a handler emits; its dedup key is a function of cause, handler and key. */
export function derivedEvent(cause: Event, handler: string, type: string, data: Record<string, unknown>, options: EmitOptions = {}) {
  const customerId = options.customerId ?? cause.customerId;
  const subject = options.subject ?? cause.subject;
  return {
    source: 'relay',
    type,
    sourceType: type,
    sourceEventId: options.key === undefined ? `${cause.id}:${handler}` : `${cause.id}:${handler}:${options.key}`,
    ...(subject === undefined ? {} : { subject }),
    ...(customerId === undefined ? {} : { customerId }),
    data: { ...data, causeId: cause.id, causeType: cause.type },
    raw: null,
  };
}
