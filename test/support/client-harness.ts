import type { Relay } from '../../src/app.js';
import { createEventClient, type EventClientOptions, type SubscribeOptions } from '../../client/index.js';
import type { Event } from '../../src/events/event.js';
import { Inbox, keys } from './mcp-clients.js';

/**
 * The companion client against a test relay (as alice) or another test server, tuned for
 * tests: short reconnect and retry backoff, a fast tools loop. `mode` is always passed, so
 * RELAY_CLIENT_MODE in the environment cannot change what a test runs.
 */
export function eventClientFor(server: Relay | { endpoint: string; token: string | undefined }, mode: NonNullable<EventClientOptions['mode']>, options: Partial<EventClientOptions> = {}) {
  const endpoint = 'endpoint' in server ? { url: server.endpoint, token: server.token } : { url: `${server.url}/mcp`, token: keys.alice };
  return createEventClient({
    ...endpoint,
    mode,
    reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
    toolsIntervalMs: 50,
    ...options,
  });
}

/** Subscribe options with fast retries, and an inbox of the ids onEvent accepted, in order. */
export function recorder(overrides: Partial<SubscribeOptions> = {}) {
  const delivered = new Inbox<string>();
  const errors = new Inbox<Parameters<NonNullable<SubscribeOptions['onError']>>[0]>();
  const options: SubscribeOptions = {
    attempts: 2,
    retry: { initialDelayMs: 5, maxDelayMs: 20 },
    onEvent: (event: Event) => {
      delivered.push(event.id);
    },
    onError: (error) => errors.push(error),
    ...overrides,
  };
  return {
    delivered,
    errors,
    options,
    /** Waits until these ids were delivered (in any order so far). */
    until: (ids: string[]) => delivered.until((items) => ids.every((id) => items.includes(id)), `delivery of ${ids.length} events`),
  };
}

/**
 * A fetch whose `events/stream` responses can be frozen: `freeze()` makes every stream
 * open at that moment stop passing bytes on while its connection stays up, which is what a
 * half-dead connection looks like to the client. Streams opened later flow normally.
 */
export function freezableFetch() {
  const open = new Set<{ frozen: boolean }>();
  const streamsOpened = new Inbox<number>();
  const freezable: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    const method = typeof init?.body === 'string' ? (JSON.parse(init.body) as { method?: string }).method : undefined;
    if (method !== 'events/stream' || !res.body || !res.headers.get('content-type')?.includes('text/event-stream')) return res;
    const state = { frozen: false };
    open.add(state);
    streamsOpened.push(streamsOpened.items.length + 1);
    const gate = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        if (!state.frozen) controller.enqueue(chunk);
      },
      flush: () => void open.delete(state),
    });
    res.body.pipeTo(gate.writable).catch(() => open.delete(state));
    return new Response(gate.readable, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
  return {
    fetch: freezable,
    streamsOpened,
    freeze() {
      for (const state of open) state.frozen = true;
    },
  };
}

/**
 * A fetch that makes the relay look like a 2025-11-25-only server: `server/discover` is
 * answered "method not found", so the SDK's `auto` negotiation falls back to `initialize`.
 * `versions` records the MCP-Protocol-Version header of every other request.
 */
export function legacyOnlyFetch(inner: typeof fetch = fetch) {
  const versions: (string | null)[] = [];
  const legacyOnly: typeof fetch = async (input, init) => {
    const message = typeof init?.body === 'string' ? (JSON.parse(init.body) as { id?: unknown; method?: string }) : undefined;
    if (message?.method === 'server/discover') {
      const error = { jsonrpc: '2.0', id: message.id, error: { code: -32601, message: 'Method not found' } };
      return new Response(JSON.stringify(error), { status: 200, headers: { 'content-type': 'application/json' } });
    }
    versions.push(new Headers(init?.headers).get('mcp-protocol-version'));
    return inner(input, init);
  };
  return { fetch: legacyOnly, versions };
}
