/**
 * An agent loop that reacts to failed payments, written once for every delivery mode.
 *
 *   RELAY_URL=http://127.0.0.1:8787/mcp RELAY_TOKEN=… npx tsx examples/payment-failed-agent.ts --mode push
 *   RELAY_URL=http://127.0.0.1:8787/mcp RELAY_TOKEN=… npx tsx examples/payment-failed-agent.ts --mode tools
 *
 * Only `--mode` differs between the two: push (the relay streams each event as it is
 * committed) or tools (the agent polls `check_pending_events` and acknowledges with
 * `ack_event`, as agents did before push). Without `--mode`, RELAY_CLIENT_MODE or `auto`.
 * `--max-events N` (or EXAMPLE_MAX_EVENTS) exits after N reactions.
 */
import { parseArgs } from 'node:util';
// In your own project: import { … } from 'mcp-event-relay/client';
import { type ClientMode, type Event, createEventClient } from '../client/index.js';

const { values } = parseArgs({
  options: {
    mode: { type: 'string' },
    url: { type: 'string' },
    'max-events': { type: 'string' },
  },
});
const url = values.url ?? process.env.RELAY_URL ?? 'http://127.0.0.1:8787/mcp';
const maxEvents = Number(values['max-events'] ?? process.env.EXAMPLE_MAX_EVENTS ?? Infinity);

/** The agent's reaction. A real agent would hand the event to its model and tools here. */
async function onPaymentFailed(event: Event): Promise<string> {
  const data = event.data as { amount?: number; currency?: string; failureMessage?: string; failure_message?: string };
  const amount = data.amount !== undefined ? ` ${data.amount} ${data.currency ?? ''}`.trimEnd() : '';
  return `reacted to payment.failed ${event.id}: notify ${event.customerId ?? event.subject ?? 'the customer'} about a failed payment${amount}`;
}

const relay = createEventClient({ url, token: process.env.RELAY_TOKEN, mode: values.mode as ClientMode | undefined });
let handled = 0;
const subscription = await relay.subscribe({
  filter: { types: ['payment.failed'] },
  onEvent: async (event) => {
    console.log(await onPaymentFailed(event));
    // The event counts as handled (cursor saved, or ack_event sent) once this resolves.
    if (++handled >= maxEvents) setImmediate(stop);
  },
  onError: (error) => console.error(`payment-failed-agent: ${error.kind}`, error.kind === 'handler' ? error.event.id : ''),
});
console.log(`payment-failed-agent: listening for payment.failed in ${subscription.mode} mode`);

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  void subscription.unsubscribe().then(() => relay.close());
}
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
await subscription.closed;
