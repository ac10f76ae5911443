import type { Client } from '@modelcontextprotocol/client';
import { backoffDelay, sleep } from './backoff.js';
import { connectMcp, isPermanent, retryAfterMs } from './connection.js';
import { memoryCursorStore } from './cursor-store.js';
import { Delivery } from './delivery.js';
import { negotiateMode } from './negotiate.js';
import type { BackoffOptions, DeliveryMode, EventClientOptions, SubscribeOptions } from './options.js';
import { pollSource } from './poll-source.js';
import { pushSource } from './push-source.js';
import { type SourceTable, subscriptionTarget } from './source.js';
import { EventClientError, type SubscriptionError } from './subscription-error.js';
import { toolsSource } from './tools-source.js';

const sources: SourceTable = { push: pushSource, poll: pollSource, tools: toolsSource };

/**
 * The first retry comes within 250 ms, and a relay that is down is retried at least every
 * 5 s. The bound grows 1.5× rather than 2× so that a relay restarting in 1-2 s is tried
 * again soon after it is back: any attempt's wait is that late at worst, and doubling has
 * reached 2-4 s by then.
 */
const DEFAULT_RECONNECT: Required<BackoffOptions> = { initialDelayMs: 250, factor: 1.5, maxDelayMs: 5_000 };
const DEFAULT_RETRY: Required<BackoffOptions> = { initialDelayMs: 100, factor: 2, maxDelayMs: 5_000 };

/** A running subscription: its mode, and the way to stop it. */
export interface Subscription {
  /** The mode in use (what `auto` negotiated). */
  readonly mode: DeliveryMode;
  /** Settles when the subscription has ended: by `unsubscribe()`, or after a `fatal` report. */
  readonly closed: Promise<void>;
  /** Stops delivery: waits for an onEvent in progress, then closes the connection. No onEvent runs afterwards. */
  unsubscribe(): Promise<void>;
}

/**
 * Connects, picks the mode, and resolves once the server has accepted the subscription;
 * rejects if that first attempt fails. Afterwards failures are reported through onError
 * and the connection is rebuilt with exponential backoff and jitter (or after the
 * `retryAfterMs` the server asked for), resuming from the cursor; only permanent refusals
 * end it.
 */
export async function startSubscription(clientOptions: EventClientOptions & { mode: NonNullable<EventClientOptions['mode']> }, options: SubscribeOptions): Promise<Subscription> {
  const filter = options.filter ?? {};
  const target = subscriptionTarget(options.event, filter);
  const stop = new AbortController();
  const signal = stop.signal;
  const report = (error: SubscriptionError) => {
    try {
      options.onError?.(error);
    } catch {
      // A throwing onError must not take delivery down with it.
    }
  };
  const store = options.cursorStore ?? memoryCursorStore();
  const delivery = new Delivery({
    onEvent: options.onEvent,
    report,
    store,
    attempts: Math.max(1, options.attempts ?? 3),
    retry: { ...DEFAULT_RETRY, ...options.retry },
    dedupWindow: Math.max(1, options.dedupWindow ?? 1_000),
    signal,
  });
  delivery.cursor = options.cursor ?? (await store.load()) ?? null;

  const connect = () => connectMcp(clientOptions);
  let client: Client | undefined = await connect();
  let mode: DeliveryMode;
  try {
    mode = clientOptions.mode === 'auto' ? await negotiateMode(client, target, signal) : clientOptions.mode;
    if (mode === 'tools' && (filter.sources?.length || filter.subjects?.length || options.event)) {
      throw new EventClientError('unsupported_filter', 'tools mode filters by types only; sources, subjects and an event subscription need push or poll', { permanent: true });
    }
  } catch (error) {
    await client.close().catch(() => undefined);
    throw error;
  }
  clientOptions.logger?.info(`mcp-event-relay client: ${mode} mode${clientOptions.mode === 'auto' ? ' (negotiated)' : ''}`);

  let established = false;
  let accept!: () => void;
  let refuse!: (error: unknown) => void;
  const ready = new Promise<void>((resolve, reject) => {
    accept = resolve;
    refuse = reject;
  });
  const reconnect = { ...DEFAULT_RECONNECT, ...clientOptions.reconnect };
  const source = sources[mode];

  const run = async () => {
    let failures = 0;
    while (!signal.aborted) {
      try {
        client ??= await connect();
        await source({
          client,
          delivery,
          filter,
          target,
          group: options.group,
          leaseMs: options.leaseMs,
          heartbeatMs: clientOptions.heartbeatMs ?? 15_000,
          pollTimeoutMs: Math.min(60_000, clientOptions.pollTimeoutMs ?? 25_000),
          toolsIntervalMs: clientOptions.toolsIntervalMs ?? 1_000,
          signal,
          established: () => {
            established = true;
            failures = 0;
            accept();
          },
          report,
        });
      } catch (error) {
        if (signal.aborted) break;
        if (!established) {
          refuse(error);
          break;
        }
        if (isPermanent(error)) {
          report({ kind: 'fatal', cause: error });
          break;
        }
        // A server that said how long to wait (-32013 with retryAfterMs) is waited for exactly.
        const delayMs = retryAfterMs(error) ?? backoffDelay(failures, reconnect);
        failures++;
        report({ kind: 'connection', attempt: failures, delayMs, cause: error });
        await client?.close().catch(() => undefined);
        client = undefined;
        await sleep(delayMs, signal).catch(() => undefined);
      }
    }
    await client?.close().catch(() => undefined);
  };
  const closed = run();
  await ready;
  return {
    mode,
    closed,
    async unsubscribe() {
      stop.abort(new EventClientError('closed', 'unsubscribed'));
      await closed;
    },
  };
}
