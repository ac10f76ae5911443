import type { Relay } from '../../src/app.js';
import { type CallbackReceiver } from './callback-receiver.js';
import { modernPost, rawLegacySession, readRpc } from './mcp-clients.js';

export type RpcAnswer = { result?: Record<string, any>; error?: { code: number; message: string; data?: Record<string, any> } };

/** One 2026-07-28 request, its JSON-RPC answer parsed. */
export async function rpc(relay: Pick<Relay, 'url'>, method: string, params: Record<string, unknown>, options: Parameters<typeof modernPost>[3] = {}): Promise<RpcAnswer> {
  return (await readRpc(await modernPost(relay, method, params, options))) as RpcAnswer;
}

/** One request on a fresh 2025-11-25 session. */
export async function legacyRpc(relay: Relay, method: string, params: Record<string, unknown>, key?: string): Promise<RpcAnswer> {
  const session = await rawLegacySession(relay, key === undefined ? {} : { key });
  return (await readRpc(await session.post({ id: 1, method, params }))) as RpcAnswer;
}

/** `events/subscribe` of `name` (default every event) to `receiver`, with its secret. */
export function subscribeTo(relay: Pick<Relay, 'url'>, receiver: CallbackReceiver, params: Record<string, unknown> = {}, options: Parameters<typeof modernPost>[3] = {}): Promise<RpcAnswer> {
  const { delivery, ...rest } = params;
  return rpc(
    relay,
    'events/subscribe',
    { name: 'cx_events', cursor: null, ...rest, delivery: { mode: 'webhook', url: receiver.url, secret: receiver.secret, ...(delivery as object | undefined) } },
    options,
  );
}
