import { ProtocolError } from '@modelcontextprotocol/server';
import type { BudgetRefusal } from '../http/budget.js';

/**
 * JSON-RPC errors this server sends. The -3201x codes are the Events working-group draft's
 * (NotFound, Forbidden, ResourceExhausted, Unsupported); nothing of ours is invented in
 * -32020…-32099, which the 2026 revision reserves.
 */
export const WireCode = {
  invalidParams: -32602,
  internal: -32603,
  notFound: -32011,
  forbidden: -32012,
  resourceExhausted: -32013,
  unsupported: -32014,
} as const;

export function missingEventsCapability(): ProtocolError {
  return new ProtocolError(WireCode.unsupported, 'the client did not declare the "events" capability (or experimental.events)', {
    feature: 'events',
    missingCapability: 'events',
  });
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

export function invalidParams(message: string): ProtocolError {
  return new ProtocolError(WireCode.invalidParams, message);
}

/** A JSON-RPC error response body for the requests this server answers without the SDK. */
export function errorResponse(id: string | number | null, error: ProtocolError): Record<string, unknown> {
  return { jsonrpc: '2.0', id, error: { code: error.code, message: error.message, ...(error.data === undefined ? {} : { data: error.data }) } };
}
