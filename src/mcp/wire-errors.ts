import { ProtocolError } from '@modelcontextprotocol/server';
import type { WireError } from '../delivery/push-stream.js';
import type { StreamEndReason } from '../delivery/stream-end.js';
import type { BudgetRefusal } from '../http/budget.js';

/**
 * Every JSON-RPC error code this server sends on `/mcp`, in one table: renumbering one is a
 * change of one line here. The Events working-group draft's codes (NotFound, Forbidden,
 * ResourceExhausted, Unsupported) sit in the range 2026-07-28 calls legacy; the -3202x codes
 * are 2026-07-28's own, and nothing of ours is invented in -32020…-32099. (The body parser
 * in `src/http/errors.ts` answers JSON-RPC's parse error and invalid request before any
 * MCP routing.)
 */
export const WireCode = {
  /** JSON-RPC 2.0. */
  invalidParams: -32602,
  internal: -32603,
  /** 2025-11-25 Streamable HTTP: a request the session transport cannot take (as the SDK answers it). */
  badRequest: -32000,
  /** 2025-11-25 Streamable HTTP: an unknown, ended or foreign `Mcp-Session-Id`, or an unknown stream to resume. */
  sessionNotFound: -32001,
  /** 2026-07-28: HeaderMismatch, MissingRequiredClientCapability, UnsupportedProtocolVersion. */
  headerMismatch: -32020,
  missingClientCapability: -32021,
  unsupportedProtocolVersion: -32022,
  /** Events draft. */
  notFound: -32011,
  forbidden: -32012,
  resourceExhausted: -32013,
  unsupported: -32014,
  callbackEndpoint: -32015,
} as const;

/**
 * A client that did not declare `events`. On the 2026-07-28 wire: MissingRequiredClientCapability
 * with `data.requiredCapabilities` (the SDK answers it with HTTP 400). A 2025-11-25 session has
 * no such code: there it is the Events draft's Unsupported.
 */
export function missingEventsCapability(era: 'legacy' | 'modern'): ProtocolError {
  const message = 'the client did not declare the "events" capability (or experimental.events)';
  if (era === 'modern') return new ProtocolError(WireCode.missingClientCapability, message, { requiredCapabilities: { events: {} } });
  return new ProtocolError(WireCode.unsupported, message, { feature: 'events', missingCapability: 'events' });
}

export function unknownEventName(name: string): ProtocolError {
  return new ProtocolError(WireCode.notFound, `no event type named "${name}"; events/list names them`, { kind: 'event', name });
}

export function forbiddenGroup(group: string): ProtocolError {
  return new ProtocolError(WireCode.forbidden, `consumer group "${group}" belongs to another principal`, { kind: 'group' });
}

/** -32013 with the draft's `data: { limit: "<what>", max }`, for any budget a request hit. */
export function limitReached(refusal: BudgetRefusal): ProtocolError {
  return new ProtocolError(WireCode.resourceExhausted, refusal.message, { limit: refusal.limit, max: refusal.max });
}

/** -32013 for a quota that is not a {@link BudgetRefusal} (webhook subscriptions, verifications per host). */
export function limitReachedData(message: string, data: Record<string, unknown>): ProtocolError {
  return new ProtocolError(WireCode.resourceExhausted, message, data);
}

/** `events/subscribe` and `events/unsubscribe` need a principal that authenticated; an open relay has none. */
export function forbiddenUnauthenticated(): ProtocolError {
  return new ProtocolError(WireCode.forbidden, 'webhook subscriptions need an authenticated principal: configure RELAY_API_KEYS and send a bearer key', {
    kind: 'principal',
  });
}

/** `events/subscribe` asked for a mode it does not serve (it serves `webhook` only). */
export function unsupportedDeliveryMode(mode: string): ProtocolError {
  return new ProtocolError(WireCode.unsupported, `events/subscribe serves delivery.mode "webhook", not "${mode}"`, { feature: 'deliveryMode', value: mode });
}

/** The callback endpoint failed verification; `data.reason` is its category. */
export function callbackEndpointError(message: string, data: Record<string, unknown>): ProtocolError {
  return new ProtocolError(WireCode.callbackEndpoint, message, data);
}

/** What a suspended webhook subscription's `terminated` envelope carries. */
export function suspensionError(reason: string): WireError {
  return { code: WireCode.callbackEndpoint, message: 'deliveries failed for too long; the subscription is suspended until it is refreshed', data: { reason, suspended: true } };
}

export function subscriptionNotFound(message: string): ProtocolError {
  return new ProtocolError(WireCode.notFound, message, { kind: 'subscription' });
}

export function invalidParams(message: string, data?: Record<string, unknown>): ProtocolError {
  return new ProtocolError(WireCode.invalidParams, message, data);
}

/**
 * What `notifications/events/terminated` says before the relay ends a push stream on its own:
 * shutdown, the stream's lifetime (`lifetimeMs`), or a failure. Ends the client caused
 * (closed, cancelled, replaced by its resume, its session deleted) get none, and neither does
 * a reader cut for being too slow: its connection is destroyed with more than the buffer
 * bound unsent, so nothing more can reach it, and it resumes by cursor.
 */
export function streamEndError(reason: StreamEndReason, lifetimeMs: number): WireError | undefined {
  switch (reason) {
    case 'shutdown':
      return { code: WireCode.internal, message: 'the relay is shutting down; resubscribe from the cursor', data: { reason } };
    case 'lifetime':
      return { code: WireCode.resourceExhausted, message: `the stream reached its lifetime of ${lifetimeMs} ms; resubscribe from the cursor`, data: { reason, limit: 'stream_lifetime_ms', max: lifetimeMs } };
    case 'store_error':
      return { code: WireCode.internal, message: 'the event log could not be read; resubscribe from the cursor', data: { reason } };
    case 'internal_error':
      return { code: WireCode.internal, message: 'the stream failed; resubscribe from the cursor', data: { reason } };
    default:
      return undefined;
  }
}

/** What `notifications/events/error` says when a read of the event log failed and will be retried. */
export function storeRetryError(retryInMs: number): WireError {
  return { code: WireCode.internal, message: 'the event log could not be read; retrying', data: { reason: 'store_unavailable', retryInMs } };
}

/** A JSON-RPC error response body for the requests this server answers without the SDK. */
export function errorResponse(id: string | number | null, error: ProtocolError): Record<string, unknown> {
  return { jsonrpc: '2.0', id, error: { code: error.code, message: error.message, ...(error.data === undefined ? {} : { data: error.data }) } };
}
