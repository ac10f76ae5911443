import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { z } from 'zod';
import { EventClientError } from './subscription-error.js';

/** Longest timer Node allows; liveness of long requests is watched by the caller instead. */
export const NO_TIMEOUT_MS = 2_147_483_647;

const clientInfo = { name: 'mcp-event-relay-client', version: '0.1.0' };
const anyResult = z.looseObject({});

export interface ConnectOptions {
  url: string | URL;
  token?: string;
  fetch?: typeof fetch;
}

/**
 * An MCP client for one subscription. Version negotiation `auto` tries 2026-07-28
 * (`server/discover`) first and falls back to a 2025-11-25 `initialize`. The Events opt-in is
 * declared both as `events` (the relay's draft capability) and `experimental.events`
 * (which survives SDKs that drop unknown top-level keys).
 */
export async function connectMcp(options: ConnectOptions): Promise<Client> {
  const client = new Client(clientInfo, {
    versionNegotiation: { mode: 'auto' },
    capabilities: { events: {}, experimental: { events: {} } } as never,
  });
  const transport = new StreamableHTTPClientTransport(new URL(options.url), {
    requestInit: { headers: options.token ? { Authorization: `Bearer ${options.token}` } : {} },
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  await client.connect(transport);
  return client;
}

/** A request for a method the SDK does not know (the Events extension). */
export function customRequest(
  client: Client,
  method: string,
  params: Record<string, unknown>,
  options: { signal: AbortSignal; timeout?: number },
): Promise<Record<string, unknown>> {
  return client.request({ method, params } as never, anyResult, { timeout: options.timeout ?? NO_TIMEOUT_MS, signal: options.signal }) as Promise<
    Record<string, unknown>
  >;
}

/**
 * Calls `listener` with every error the client's transport reports, until the returned
 * function is called. The Streamable HTTP transport reports a cut SSE response here (the
 * relay died, a proxy dropped it) and nowhere else: the request that response belonged to
 * neither resolves nor rejects, and the SDK's own retries (a `GET` with `Last-Event-ID`)
 * are reported here too when they fail. Chained like the SDK chains its own handler.
 */
export function onTransportError(client: Client, listener: (error: Error) => void): () => void {
  const transport = client.transport;
  if (!transport) return () => undefined;
  const previous = transport.onerror;
  transport.onerror = (error) => {
    previous?.(error);
    listener(error);
  };
  return () => {
    transport.onerror = previous;
  };
}

/**
 * Errors a retry cannot cure: a refused request (bad arguments, unknown event name, a group
 * of someone else, unsupported, a client capability the server requires, unknown method)
 * or refused credentials.
 */
const PERMANENT_CODES = new Set([-32602, -32601, -32011, -32012, -32014, -32021, 401, 403]);

export function isPermanent(error: unknown): boolean {
  if (error instanceof EventClientError) return error.permanent;
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'number' && PERMANENT_CODES.has(code)) return true;
  const status = (error as { status?: unknown } | undefined)?.status;
  return status === 401 || status === 403;
}

/** Whether the server does not offer `events/*` to this client at all. */
export function isUnsupported(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === -32601 || code === -32014 || code === -32021;
}

/** How long the server asked to be left alone (`data.retryAfterMs` of a refusal such as -32013), if it said. */
export function retryAfterMs(error: unknown): number | undefined {
  const wait = (error as { data?: { retryAfterMs?: unknown } } | undefined)?.data?.retryAfterMs;
  return typeof wait === 'number' && Number.isFinite(wait) && wait >= 0 ? wait : undefined;
}
