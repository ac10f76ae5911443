import type { EventSourceMessage } from 'eventsource-parser';

/**
 * The JSON-RPC frames of an `events/stream` response, shared by both eras: what each one
 * means for the reader's record.
 */
export type PushFrame =
  | { kind: 'event'; cursor: string; type: string; sseId: string | undefined }
  | { kind: 'active'; cursor: string; truncated: boolean }
  | { kind: 'heartbeat'; cursor: string; sseId: string | undefined }
  | { kind: 'result'; cursor: string | undefined }
  | { kind: 'error'; message: string }
  /** A frame without data (the legacy `retry:` priming frame) or one the checker does not use. */
  | { kind: 'other'; sseId: string | undefined; method: string | undefined };

type Rpc = { id?: unknown; method?: string; params?: Record<string, any>; result?: Record<string, any>; error?: { code: number; message: string } };

export function parsePushFrame(frame: EventSourceMessage): PushFrame {
  const sseId = frame.id;
  if (frame.data === '') return { kind: 'other', sseId, method: undefined };
  let rpc: Rpc;
  try {
    rpc = JSON.parse(frame.data) as Rpc;
  } catch {
    return { kind: 'error', message: `a frame that is not JSON: ${frame.data.slice(0, 120)}` };
  }
  const params = rpc.params ?? {};
  switch (rpc.method) {
    case 'notifications/events/event':
      return { kind: 'event', cursor: String(params.cursor), type: String(params.data?.type), sseId };
    case 'notifications/events/active':
      return { kind: 'active', cursor: String(params.cursor), truncated: params.truncated === true };
    case 'notifications/events/heartbeat':
      return { kind: 'heartbeat', cursor: String(params.cursor), sseId };
    case undefined:
      if (rpc.error) return { kind: 'error', message: `${rpc.error.code} ${rpc.error.message}` };
      return { kind: 'result', cursor: typeof rpc.result?.cursor === 'string' ? rpc.result.cursor : undefined };
    default:
      return { kind: 'other', sseId, method: rpc.method };
  }
}

/** The SSE ids of a legacy session's push frames: `<tag>.<ULID>`. */
export function splitLegacyId(id: string | undefined): { tag: string; ulid: string } | undefined {
  const match = id === undefined ? null : /^(s\d+)\.([0-9A-Z]{26})$/.exec(id);
  return match ? { tag: match[1]!, ulid: match[2]! } : undefined;
}
