import type { IncomingMessage, ServerResponse } from 'node:http';
import { CLIENT_CAPABILITIES_META_KEY, PROTOCOL_VERSION_META_KEY, type ProtocolError } from '@modelcontextprotocol/server';
import { principalOf } from '../../http/access.js';
import { declaresEvents } from '../client-capabilities.js';
import type { RelayContext } from '../relay-context.js';
import type { StreamRegistry } from '../stream-registry.js';
import { openPushStream, parseStreamParams, type PushSettings, sendError } from '../stream-requests.js';
import { missingEventsCapability, WireCode } from '../wire-errors.js';

export const MODERN_VERSIONS = ['2026-07-28'];

type ModernRequest = { id: string | number; method: string; params?: { _meta?: Record<string, unknown> } & Record<string, unknown> };

function headerError(res: ServerResponse, id: string | number, code: number, message: string, data?: unknown): void {
  res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id, error: { code, message, ...(data ? { data } : {}) } }));
}

/**
 * `events/stream` from a 2026-07-28 client, which the relay serves itself (the SDK's modern
 * path writes no SSE ids and buffers without bound). The SDK's classifier has already
 * checked the `_meta` envelope; the header rules of the 2026-07-28 Streamable HTTP
 * transport are checked here as the SDK checks them for every other method. Disconnecting
 * cancels; a client resumes by sending a new `events/stream` with its last cursor.
 */
export async function serveModernStream(
  req: IncomingMessage & { auth?: Parameters<typeof principalOf>[0] },
  res: ServerResponse,
  message: ModernRequest,
  context: RelayContext,
  registry: StreamRegistry,
  settings: PushSettings,
): Promise<void> {
  const meta = message.params?._meta ?? {};
  const claimed = meta[PROTOCOL_VERSION_META_KEY];
  const header = req.headers['mcp-protocol-version'];
  if (header === undefined) return headerError(res, message.id, WireCode.headerMismatch, 'the required MCP-Protocol-Version header is absent', { mismatch: { header: '(missing)', body: claimed } });
  if (header !== claimed) return headerError(res, message.id, WireCode.headerMismatch, 'MCP-Protocol-Version does not match the _meta protocol version', { mismatch: { header, body: claimed } });
  if (typeof claimed !== 'string' || !MODERN_VERSIONS.includes(claimed)) {
    return headerError(res, message.id, WireCode.unsupportedProtocolVersion, `Unsupported protocol version: ${String(claimed)}`, { supported: MODERN_VERSIONS, requested: claimed });
  }
  if (req.headers['mcp-method'] !== message.method) {
    return headerError(res, message.id, WireCode.headerMismatch, 'the Mcp-Method header does not match the request method', { mismatch: { header: req.headers['mcp-method'] ?? null, body: message.method } });
  }
  if (!declaresEvents(meta[CLIENT_CAPABILITIES_META_KEY] as Record<string, unknown> | undefined)) {
    return sendError(res, 400, message.id, missingEventsCapability('modern'));
  }
  let params;
  try {
    params = parseStreamParams(message.params);
  } catch (error) {
    return sendError(res, 200, message.id, error as ProtocolError);
  }
  await openPushStream(
    res,
    { principal: principalOf(req.auth), era: 'modern', requestId: message.id, params, idPrefix: '', after: params.cursor, announce: true, retryMs: undefined, onEnd: () => undefined },
    context,
    registry,
    settings,
  );
}
