import type { EventSourceMessage } from 'eventsource-parser';
import { readRpc, type RpcMessage } from '../../support/sse-reader.js';
import { parsePushFrame, splitLegacyId, type PushFrame } from './push-frames.js';
import { authHeaders } from './reader.js';
import { SseReaderBase } from './sse-reader-base.js';

export const MODERN_VERSION = '2026-07-28';

/** The headers of a 2026-07-28 POST to /mcp: the transport names the method (and a tool's name). */
export function modernHeaders(method: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...authHeaders,
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': MODERN_VERSION,
    'mcp-method': method,
    ...extra,
  };
}
export const LEGACY_VERSION = '2025-11-25';
const clientInfo = { name: 'relay-fault-checker', version: '1.0.0' };
/** The `_meta` of the checker's 2026-07-28 requests: the version, the client, the `events` capability. */
const modernMeta = {
  'io.modelcontextprotocol/protocolVersion': MODERN_VERSION,
  'io.modelcontextprotocol/clientInfo': clientInfo,
  'io.modelcontextprotocol/clientCapabilities': { events: {} },
};
let nextRequestId = 1;

/** One 2026-07-28 request to `<base>/mcp` as the checker's client, its JSON-RPC answer parsed. */
export async function modernRequest(base: string, method: string, params: Record<string, unknown>, signal: AbortSignal): Promise<RpcMessage> {
  const res = await fetch(`${base}/mcp`, {
    method: 'POST',
    headers: modernHeaders(method),
    body: JSON.stringify({ jsonrpc: '2.0', id: nextRequestId++, method, params: { ...params, _meta: modernMeta } }),
    signal,
  });
  return readRpc(res);
}

/**
 * `events/stream` readers of both eras. Each frame becomes an observation: an event, a gap
 * (`active` with `truncated: true`, at open or mid-stream), a position (`active` otherwise,
 * heartbeats, the final result). The stream's request names the reader's position as its
 * cursor; a 2025-11-25 reader resumes a dropped stream with `Last-Event-ID: <tag>.<position>`.
 */
abstract class PushReader extends SseReaderBase {
  /** The stream ended with its final result (rotation of a modern stream, or shutdown). */
  protected finished = false;

  protected streamParams(): Record<string, unknown> {
    return { name: 'cx_events', cursor: this.position, ...(this.filter ? { arguments: { types: [...this.filter] } } : {}) };
  }

  protected onFrame(frame: EventSourceMessage): void {
    this.onPushFrame(parsePushFrame(frame));
  }

  protected onPushFrame(frame: PushFrame): void {
    switch (frame.kind) {
      case 'event':
        return this.event(frame.cursor, frame.type);
      case 'active':
        if (frame.truncated) return this.gap(undefined, frame.cursor, 'active');
        if (frame.cursor !== this.position) this.note(`active without truncation names ${frame.cursor}, the stream asked for ${this.position}`);
        return this.positionAt(frame.cursor, 'active');
      case 'heartbeat':
        return this.positionAt(frame.cursor, 'heartbeat');
      case 'result':
        this.finished = true;
        if (frame.cursor !== undefined) this.positionAt(frame.cursor, 'result');
        return;
      case 'error':
        return this.note(`stream error: ${frame.message}`);
      case 'other':
        return;
    }
  }
}

export class PushModernReader extends PushReader {
  protected async connectOnce(): Promise<void> {
    const refused = await this.stream({
      method: 'POST',
      path: '/mcp',
      headers: modernHeaders('events/stream'),
      body: JSON.stringify({ jsonrpc: '2.0', id: nextRequestId++, method: 'events/stream', params: { ...this.streamParams(), _meta: modernMeta } }),
    });
    if (refused) {
      this.note(`events/stream answered ${refused.status} ${refused.text.slice(0, 200)}`);
      throw new Error('refused');
    }
  }

  protected override onPushFrame(frame: PushFrame): void {
    if (frame.kind === 'event' && frame.sseId !== frame.cursor) this.note(`event frame id ${frame.sseId} is not its cursor ${frame.cursor}`);
    super.onPushFrame(frame);
  }
}

export class PushLegacyReader extends PushReader {
  #session: string | undefined;
  /** The session's resumable stream, from the SSE ids it sends; undefined: open a new one. */
  #tag: string | undefined;

  #headers(): Record<string, string> {
    return { ...authHeaders, accept: 'application/json, text/event-stream', 'mcp-session-id': this.#session!, 'mcp-protocol-version': LEGACY_VERSION };
  }

  protected async connectOnce(): Promise<void> {
    if (this.#session === undefined) await this.#initialize();
    this.finished = false;
    const resume = this.#tag !== undefined;
    const refused = resume
      ? await this.stream({ method: 'GET', path: '/mcp', headers: { ...this.#headers(), accept: 'text/event-stream', 'last-event-id': `${this.#tag}.${this.position}` } })
      : await this.stream({
          method: 'POST',
          path: '/mcp',
          headers: { ...this.#headers(), 'content-type': 'application/json' },
          body: JSON.stringify({ jsonrpc: '2.0', id: nextRequestId++, method: 'events/stream', params: this.streamParams() }),
        });
    if (refused) {
      // After a restart the session is gone; after a final result, its stream record is.
      if (/session not found/i.test(refused.text)) this.#session = undefined;
      this.#tag = undefined;
      this.note(`${resume ? 'resume' : 'events/stream'} answered ${refused.status} ${refused.text.slice(0, 200)}`);
      throw new Error('refused');
    }
    if (this.finished) this.#tag = undefined;
  }

  protected override onPushFrame(frame: PushFrame): void {
    if (frame.kind === 'other' || frame.kind === 'event' || frame.kind === 'heartbeat') {
      const id = splitLegacyId(frame.sseId);
      if (id) this.#tag = id.tag;
      if (frame.kind !== 'other' && frame.sseId !== undefined && id?.ulid !== frame.cursor) this.note(`${frame.kind} frame id ${frame.sseId} does not carry its cursor ${frame.cursor}`);
    }
    super.onPushFrame(frame);
  }

  async #initialize(): Promise<void> {
    const base = { ...authHeaders, accept: 'application/json, text/event-stream', 'content-type': 'application/json' };
    const init = await fetch(`${this.context.url}/mcp`, {
      method: 'POST',
      headers: base,
      body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: LEGACY_VERSION, capabilities: { experimental: { events: {} } }, clientInfo } }),
      signal: AbortSignal.timeout(10_000),
    });
    const session = init.headers.get('mcp-session-id');
    const answer = await readRpc(init);
    if (!session || !answer.result) throw new Error(`initialize failed: ${init.status}`);
    const initialized = await fetch(`${this.context.url}/mcp`, {
      method: 'POST',
      headers: { ...base, 'mcp-session-id': session, 'mcp-protocol-version': LEGACY_VERSION },
      body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
      signal: AbortSignal.timeout(10_000),
    });
    await initialized.body?.cancel();
    if (initialized.status !== 202) throw new Error(`notifications/initialized: ${initialized.status}`);
    this.#session = session;
    this.#tag = undefined;
  }
}
