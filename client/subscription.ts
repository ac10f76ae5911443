import type { Client } from '@modelcontextprotocol/client';
import { backoffDelay, sleep } from './backoff.js';
import { connectMcp, isPermanent, retryAfterMs } from './connection.js';
import { memoryCursorStore } from './cursor-store.js';
import { Delivery } from './delivery.js';
import { negotiateMode } from './negotiate.js';
import type { BackoffOptions, ClientMode, DeliveryMode, EventClientOptions, SubscribeOptions } from './options.js';
import { pollSource } from './poll-source.js';
import { pushSource } from './push-source.js';
import { type SourceTable, subscriptionTarget } from './source.js';
import { EventClientError, type SubscriptionError } from './subscription-error.js';
import { toolsSource } from './tools-source.js';
import { newWebhookSecret } from './webhook-signature.js';
import { WebhookLink, type WebhookState } from './webhook-link.js';
import { unsubscribeWebhook, webhookSource } from './webhook-source.js';

const sources: SourceTable = { push: pushSource, poll: pollSource, tools: toolsSource, webhook: webhookSource };

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
  /** Webhook: what the relay last answered `events/subscribe` (id, `refreshBefore`, `deliveryStatus`); undefined in other modes. */
  readonly webhook: WebhookState | undefined;
  /**
   * Stops delivery: waits for an onEvent in progress, then closes the connection. No onEvent
   * runs afterwards. Webhook: sends `events/unsubscribe` first, and rejects when that failed
   * (the relay then delivers, to no avail, until the grant ends).
   */
  unsubscribe(): Promise<void>;
}

/**
 * Connects, picks the mode, and resolves once the server has accepted the subscription;
 * rejects if that first attempt fails. Afterwards failures are reported through onError
 * and the connection is rebuilt with exponential backoff and jitter (or after the
 * `retryAfterMs` the server asked for), resuming from the cursor; only permanent refusals
 * end it.
 */
export async function startSubscription(
  clientOptions: EventClientOptions & { mode: ClientMode },
  options: SubscribeOptions,
  /** The client's webhook subscriptions, which its `webhookHandler` delivers to. */
  webhooks: Set<WebhookLink>,
): Promise<Subscription> {
  const requested = options.mode ?? clientOptions.mode;
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
  const link = requested === 'webhook' ? webhookLink(options, delivery, report, webhooks) : undefined;

  const connect = () => connectMcp(clientOptions);
  let client: Client | undefined;
  let mode: DeliveryMode;
  try {
    client = await connect();
    mode = requested === 'auto' ? await negotiateMode(client, target, signal) : requested;
    if (mode === 'tools' && (filter.sources?.length || filter.subjects?.length || options.event)) {
      throw new EventClientError('unsupported_filter', 'tools mode filters by types only; sources, subjects and an event subscription need push or poll', { permanent: true });
    }
  } catch (error) {
    if (link) webhooks.delete(link);
    await client?.close().catch(() => undefined);
    throw error;
  }
  clientOptions.logger?.info(`mcp-event-relay client: ${mode} mode${requested === 'auto' ? ' (negotiated)' : ''}`);

  let established = false;
  let accept!: () => void;
  let refuse!: (error: unknown) => void;
  const ready = new Promise<void>((resolve, reject) => {
    accept = resolve;
    refuse = reject;
  });
  const reconnect = { ...DEFAULT_RECONNECT, ...clientOptions.reconnect };
  const source = sources[mode];

  /** Webhook, after the loop: unsubscribed at the relay when the app asked, and no more deliveries taken. */
  let unsubscribeFailure: unknown;
  const endWebhook = async (link: WebhookLink) => {
    if (signal.aborted && link.state) {
      try {
        client ??= await connect();
        await unsubscribeWebhook(client, target, link);
      } catch (error) {
        unsubscribeFailure = error;
      }
    }
    webhooks.delete(link);
    await link.endpoint.serialize(async () => undefined);
  };
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
          webhook: link,
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
    if (link) await endWebhook(link);
    await client?.close().catch(() => undefined);
  };
  const closed = run();
  await ready;
  return {
    mode,
    closed,
    get webhook() {
      return link?.state;
    },
    async unsubscribe() {
      stop.abort(new EventClientError('closed', 'unsubscribed'));
      await closed;
      if (unsubscribeFailure !== undefined) throw unsubscribeFailure;
    },
  };
}

/**
 * A webhook subscription's link, registered with the client's handler before the relay is
 * asked (it verifies the callback while subscribing). Its secret routes deliveries to it, so
 * two subscriptions of one client cannot share one.
 */
function webhookLink(options: SubscribeOptions, delivery: Delivery, report: (error: SubscriptionError) => void, webhooks: Set<WebhookLink>): WebhookLink {
  const secret = options.secret ?? newWebhookSecret();
  if ([...webhooks].some((other) => other.secret === secret)) {
    throw new EventClientError('invalid_options', 'subscribe options: another webhook subscription of this client uses this secret', { permanent: true });
  }
  const link = new WebhookLink(new URL(options.callbackUrl!).href, secret, delivery, report, Math.max(1, options.dedupWindow ?? 1_000));
  webhooks.add(link);
  return link;
}
