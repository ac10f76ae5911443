import type { ServerResponse } from 'node:http';
import { type ProtocolError, SERVER_INFO_META_KEY, SUBSCRIPTION_ID_META_KEY } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { seekByAge } from '../delivery/age-seek.js';
import { PushStream, type PushStreamEnd } from '../delivery/push-stream.js';
import { LOG_START } from '../events/ulid.js';
import { filterFor } from './event-types.js';
import type { RelayContext } from './relay-context.js';
import { SERVER_INFO } from './server-factory.js';
import type { StreamRegistry } from './stream-registry.js';
import { errorResponse, invalidParams, limitReached, storeRetryError, streamEndError } from './wire-errors.js';

export const streamParamsSchema = z
  .object({
    name: z.string().min(1).max(200),
    arguments: z.record(z.string(), z.unknown()).optional(),
    cursor: z.string().max(64).nullable().default(null),
    maxAgeMs: z.number().int().min(1).optional(),
  })
  .passthrough();

export type StreamParams = z.output<typeof streamParamsSchema>;

export interface PushSettings {
  heartbeatMs: number;
  lifetimeMs: number;
  bufferBytes: number;
}

export interface OpenStream {
  principal: string;
  era: 'legacy' | 'modern';
  requestId: string | number;
  params: StreamParams;
  idPrefix: string;
  /** Where to start; `params.cursor` unless resuming from `Last-Event-ID`. */
  after: string | null;
  /** A new stream (not a resume): it says `active` first, and `maxAgeMs` applies to where it starts. */
  announce: boolean;
  retryMs: number | undefined;
  headers?: Record<string, string>;
  onOpen?(stream: PushStream): void;
  onEnd(end: PushStreamEnd): void;
}

/** Answers a request this relay serves itself with a JSON-RPC error, as the SDK would. */
export function sendError(res: ServerResponse, status: number, id: string | number | null, error: ProtocolError): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(errorResponse(id, error)));
}

export function parseStreamParams(params: unknown): StreamParams {
  const parsed = streamParamsSchema.safeParse(params);
  if (!parsed.success) throw invalidParams(`invalid events/stream params: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/**
 * Opens an `events/stream` response for either era: checks the subscription and the
 * principal's stream budget, then hands the socket to a {@link PushStream}. Errors before the
 * stream starts are answered as JSON-RPC errors on the same request.
 */
export async function openPushStream(res: ServerResponse, spec: OpenStream, context: RelayContext, registry: StreamRegistry, settings: PushSettings): Promise<void> {
  let filter;
  try {
    filter = filterFor(spec.params.name, spec.params.arguments);
  } catch (error) {
    sendError(res, 200, spec.requestId, error as ProtocolError);
    return;
  }
  const cursor = spec.after ?? (await context.log.head()) ?? LOG_START;
  const start = spec.announce && spec.after !== null ? await seekByAge(context.log, cursor, filter, spec.params.maxAgeMs, Date.now()) : { after: cursor, skipped: false };
  const meta = { [SUBSCRIPTION_ID_META_KEY]: spec.requestId };
  const slot = registry.budget.take(spec.principal);
  if (!slot.ok) {
    sendError(res, 200, spec.requestId, limitReached(slot.refusal));
    return;
  }
  const stream = new PushStream(res, {
    log: context.log,
    filter,
    name: spec.params.name,
    requestId: spec.requestId,
    meta,
    // 2026-07-28 results carry the server's identity, as the SDK stamps every other result.
    resultMeta: spec.era === 'modern' ? { ...meta, [SERVER_INFO_META_KEY]: SERVER_INFO } : meta,
    idPrefix: spec.idPrefix,
    after: start.after,
    truncated: start.skipped,
    heartbeatMs: settings.heartbeatMs,
    lifetimeMs: settings.lifetimeMs,
    bufferBytes: settings.bufferBytes,
    retryMs: spec.retryMs,
    announce: spec.announce,
    era: spec.era,
    terminationError: (reason) => streamEndError(reason, settings.lifetimeMs),
    transientError: storeRetryError,
    onDelivered: (eventId) => context.delivery.delivered(eventId),
    onEnd: (end) => {
      registry.release(spec.principal, stream, end);
      spec.onEnd(end);
    },
  });
  registry.add(spec.principal, stream, slot.release);
  spec.onOpen?.(stream);
  for (const [name, value] of Object.entries(spec.headers ?? {})) res.setHeader(name, value);
  stream.start();
}
