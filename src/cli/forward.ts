import { createEventClient, memoryCursorStore } from '../../client/index.js';
import type { Event } from '../events/event.js';
import { type AttemptResult, postCallback } from '../outbound/callback-post.js';
import { parseEgressAllow } from '../outbound/address-policy.js';
import { eventEnvelope } from '../outbound/envelopes.js';
import { FORWARD_ATTEMPTS, FORWARD_RETRY, FORWARD_TIMEOUT_MS, type ForwardSettings } from './forward-settings.js';
import { formatSubscriptionError } from './tail-format.js';

/** The relay's aggregate Events type, which a filter subscribes to: the occurrences' `name`. */
const EVENT_NAME = 'cx_events';
/** What `x-mcp-subscription-id` says: these deliveries belong to no subscription of the relay. */
const SUBSCRIPTION_ID = 'forward';

/** Where forward writes: delivery lines, and its own status lines. */
export interface ForwardOutput {
  line(text: string): void;
  status(text: string): void;
}

/** `12:00:01  payment.failed  01J…  → 200 (4 ms)`: local time, type, id, answer or failure, latency, and what comes next. */
function formatAttempt(at: Date, event: Pick<Event, 'type' | 'id'>, result: AttemptResult, latencyMs: number, next: string): string {
  const time = [at.getHours(), at.getMinutes(), at.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
  const answer = result.outcome === 'failed' ? (result.status ?? result.reason) : result.status;
  return `${time}  ${event.type}  ${event.id}  → ${answer} (${Math.round(latencyMs)} ms)${next}`;
}

/**
 * Subscribes to the relay by push and POSTs each event to `settings.to`, signed and shaped as
 * the relay's own webhook delivery (`eventEnvelope`, `postCallback`): the egress policy allows
 * exactly the host of `--to`. A failed attempt throws, so the client retries it and, after
 * {@link FORWARD_ATTEMPTS}, skips it; either way only then does the cursor move. Resolves when
 * the subscription ends: `stop` (Ctrl-C), or a failure the client cannot recover from (exit 1).
 */
export async function forward(settings: ForwardSettings, output: ForwardOutput, stopSignal: Promise<void>): Promise<number> {
  const target = { policy: parseEgressAllow(settings.to.host), self: [], timeoutMs: FORWARD_TIMEOUT_MS };
  const cursor = memoryCursorStore(settings.from);
  let exitCode = 0;
  let tries = { id: '', count: 0 };

  const deliver = async (event: Event) => {
    tries = { id: event.id, count: tries.id === event.id ? tries.count + 1 : 1 };
    const envelope = eventEnvelope(EVENT_NAME, { id: event.id, type: event.type, source: event.source, json: JSON.stringify(event) });
    const started = performance.now();
    const result = await postCallback(target, settings.to, SUBSCRIPTION_ID, [settings.secret], envelope, Date.now());
    const delivered = result.outcome === 'delivered';
    const next = delivered ? '' : tries.count < FORWARD_ATTEMPTS ? ', retrying' : `, gave up after ${FORWARD_ATTEMPTS} attempts`;
    output.line(formatAttempt(new Date(), event, result, performance.now() - started, next));
    if (!delivered) throw new Error(`attempt ${tries.count} failed`);
  };

  output.status(`forward: signing secret ${settings.secret} (configure your receiver with it)`);
  const relay = createEventClient({ url: settings.url, token: settings.token, mode: 'push' });
  const sub = await relay.subscribe({
    filter: { ...(settings.types && { types: settings.types }), ...(settings.sources && { sources: settings.sources }) },
    cursorStore: cursor,
    attempts: FORWARD_ATTEMPTS,
    retry: FORWARD_RETRY,
    onEvent: deliver,
    onError: (error) => {
      // A given-up event was reported by its last attempt's line.
      if (error.kind !== 'handler') output.status(formatSubscriptionError(error, 'forward'));
      if (error.kind === 'fatal') exitCode = 1;
    },
  });
  const filters = [settings.types && `types: ${settings.types.join(', ')}`, settings.sources && `sources: ${settings.sources.join(', ')}`].filter(Boolean);
  output.status(`forward: ${settings.url} → ${settings.to.href}${filters.length ? ` (${filters.join('; ')})` : ''}`);
  void stopSignal.then(() => sub.unsubscribe());
  await sub.closed;
  await relay.close();
  output.status(cursor.cursor === undefined ? 'forward: stopped' : `forward: stopped; resume with --from ${cursor.cursor}`);
  return exitCode;
}
