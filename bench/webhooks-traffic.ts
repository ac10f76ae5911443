import { setTimeout as sleep } from 'node:timers/promises';
import { signDelivery } from '../src/ingest/sign.js';
import type { Envelope } from '../src/outbound/envelopes.js';
import { post, until } from './open-loop.js';
import { MODERN_VERSION } from './sse-subscription.js';

/**
 * The `webhooks` benchmark's traffic: the subscription, the bare loop's signed POSTs to the
 * receiver, and the arrivals the receiver (`arrivals-receiver.ts`) hands back. The provider's
 * webhooks into the relay come from `open-loop.ts`.
 */

/** What the receiver noted: `webhook-id`s in arrival order, their arrival times (shared clock, ms), body bytes. */
export interface Arrivals {
  ids: string[];
  at: number[];
  bytes: number;
}

/** `events/subscribe` (2026-07-28) of every event from `cursor` to `url`; resolves with the subscription id once verified. */
export async function subscribeWebhook(relay: string, key: string, url: string, secret: string, cursor: string | null): Promise<string> {
  const meta = {
    'io.modelcontextprotocol/protocolVersion': MODERN_VERSION,
    'io.modelcontextprotocol/clientInfo': { name: 'webhooks-bench', version: '1' },
    'io.modelcontextprotocol/clientCapabilities': { events: {} },
  };
  const params = { name: 'cx_events', cursor, delivery: { mode: 'webhook', url, secret }, _meta: meta };
  const response = await fetch(`${relay}/mcp`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': MODERN_VERSION, 'mcp-method': 'events/subscribe' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'events/subscribe', params }),
  });
  const answer = (await response.json()) as { result?: { id: string }; error?: unknown };
  if (answer.result === undefined) throw new Error(`events/subscribe failed: ${response.status} ${JSON.stringify(answer.error)}`);
  return answer.result.id;
}

/** Polls the receiver until `expected` arrivals are in or `timeoutMs` passes; returns what came. */
export async function collectArrivals(receiver: string, expected: number, timeoutMs: number): Promise<Arrivals> {
  const all: Arrivals = { ids: [], at: [], bytes: 0 };
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const batch = (await (await fetch(`${receiver}/arrivals`)).json()) as Arrivals;
    all.ids.push(...batch.ids);
    all.at.push(...batch.at);
    all.bytes += batch.bytes;
    if (all.ids.length >= expected || performance.now() > deadline) return all;
    await sleep(100);
  }
}

/** What the bare loop posts: the relay's own callback bodies, signed by it as the relay signs them. */
export interface BareTarget {
  url: string;
  secret: string;
  subscriptionId: string;
}

/**
 * One callback as the relay makes it, with nothing of the relay around it: Standard Webhooks
 * signing (`signDelivery`) of this attempt, the same headers, and a fresh connection per POST
 * (the relay connects to the address it checked, every time).
 */
async function postBare(target: BareTarget, envelope: Envelope): Promise<void> {
  const headers = signDelivery('standard', envelope.body, {
    secret: target.secret,
    nowMs: Date.now(),
    headers: { 'webhook-id': envelope.webhookId, 'x-mcp-subscription-id': target.subscriptionId, 'user-agent': 'mcp-event-relay' },
  });
  const answer = await post(target.url, { ...headers, 'content-length': envelope.body.length }, envelope.body, false);
  if (answer.status !== 200) throw new Error(`the receiver answered ${answer.status}`);
}

/** The baseline: `envelopes` POSTed one after another, each when the previous one is answered (and not before `times[i]`, if given). */
export async function bareLoop(target: BareTarget, envelopes: readonly Envelope[], times?: readonly number[]): Promise<void> {
  for (const [i, envelope] of envelopes.entries()) {
    if (times) await until(times[i]!);
    await postBare(target, envelope);
  }
}
