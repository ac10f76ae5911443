import { invalidParams } from './wire-errors.js';
import type { ProtocolError } from '@modelcontextprotocol/server';

/** Longest resource URI the relay reads; its own are far shorter. */
const MAX_URI = 2048;
/** 2026-07-28 removed resources/subscribe and unsubscribe (subscriptions/listen replaces them): the SDK answers those 404 -32601. */
const URI_METHODS = { legacy: new Set(['resources/read', 'resources/subscribe', 'resources/unsubscribe']), modern: new Set(['resources/read']) };

/**
 * Spec requests whose params the SDK validates by throwing a plain error, which reaches the
 * client as -32603 with a schema dump. The relay checks them first and answers -32602, as
 * JSON-RPC asks for invalid params, in both eras.
 */
export function invalidSpecParams(body: unknown, era: 'legacy' | 'modern'): { id: string | number; error: ProtocolError } | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { id, method, params } = body as { id?: unknown; method?: unknown; params?: { uri?: unknown } };
  if ((typeof id !== 'string' && typeof id !== 'number') || typeof method !== 'string' || !URI_METHODS[era].has(method)) return undefined;
  const uri = typeof params === 'object' && params !== null ? params.uri : undefined;
  if (typeof uri === 'string' && uri.length <= MAX_URI) return undefined;
  return { id, error: invalidParams(`Invalid params for ${method}: uri must be a string of at most ${MAX_URI} characters`) };
}
