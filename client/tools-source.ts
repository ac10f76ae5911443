import type { Client } from '@modelcontextprotocol/client';
import type { Event } from '../src/events/event.js';
import { sleep } from './backoff.js';
import type { Source } from './source.js';
import { EventClientError } from './subscription-error.js';

type Claimed = Event & { deliveryCount?: number; leaseExpiresAt?: number };

/** Tool refusals a retry cannot cure. */
const PERMANENT_TOOL_ERRORS = new Set(['forbidden', 'invalid_argument']);

/**
 * Ack refusals that mean another member took the event over after this lease ran out: it
 * acknowledged the event already, or holds it now and acknowledges it.
 */
const TAKEN_OVER = new Set(['already_acked', 'lease_lost']);

async function callTool(client: Client, name: string, args: Record<string, unknown>, signal: AbortSignal): Promise<Record<string, unknown>> {
  const result = (await client.callTool({ name, arguments: args }, { signal })) as {
    isError?: boolean;
    content?: { type: string; text?: string }[];
    structuredContent?: Record<string, unknown>;
  };
  const text = result.content?.find((c) => c.type === 'text')?.text;
  const body = result.structuredContent ?? (text ? (JSON.parse(text) as Record<string, unknown>) : {});
  if (!result.isError) return body;
  const code = String(body.error ?? 'unknown');
  throw new EventClientError('tool_error', `${name}: ${code}${body.message ? ` (${String(body.message)})` : ''}`, {
    cause: body,
    permanent: PERMANENT_TOOL_ERRORS.has(code),
  });
}

/**
 * Tools: this relay's polling tools, usable by any MCP client. `check_pending_events`
 * leases the group's next events (oldest first); each is acknowledged with `ack_event`
 * after onEvent. The resume point is the group's state on the relay, so the cursor store
 * is not used. The relay filters by `types` only.
 */
const ACK_TIMEOUT_MS = 30_000;

export const toolsSource: Source = async (context) => {
  const { client, delivery, signal } = context;
  const group = context.group === undefined ? {} : { group: context.group };
  try {
    while (!signal.aborted) {
      const claim = await callTool(
        client,
        'check_pending_events',
        {
          ...group,
          limit: 10,
          ...(context.filter.types?.length ? { types: context.filter.types } : {}),
          ...(context.leaseMs === undefined ? {} : { leaseMs: context.leaseMs }),
        },
        signal,
      );
      context.established();
      // In log order, as the relay leases them.
      const events = (claim.events ?? []) as Claimed[];
      for (const { deliveryCount, leaseExpiresAt: _lease, ...event } of events) {
        // After unsubscribe, events not yet handled stay leased and come back to the group.
        if (signal.aborted) break;
        await delivery.handle(event, event.id);
        try {
          // Not tied to unsubscribe: a handled event is acknowledged even when the
          // subscription ends meanwhile, or it would be delivered again after its lease.
          // The delivery count fences the ack to this lease.
          const fence = deliveryCount === undefined ? {} : { deliveryCount };
          await callTool(client, 'ack_event', { ...group, eventId: event.id, ...fence }, AbortSignal.timeout(ACK_TIMEOUT_MS));
        } catch (error) {
          if (!(error instanceof EventClientError && TAKEN_OVER.has(String((error.cause as { error?: unknown }).error)))) throw error;
        }
      }
      if (events.length === 0) await sleep(context.toolsIntervalMs, signal);
    }
  } catch (error) {
    if (!signal.aborted) throw error;
  }
};
