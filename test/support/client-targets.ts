import type { ClientMode, SubscribeOptions } from '../../client/index.js';
import { EVENT_NAME, startIndependentEventsServer } from './independent-events-server.js';
import { ingest, keys, logIdsAfter, startMcpRelay } from './mcp-clients.js';

/**
 * A real Events server the companion client's tests run against: this relay, or the
 * independent server written from the draft alone. Tests publish through it, subscribe with
 * what it serves, and check cursors and the log against it.
 */
export interface ClientTarget {
  /** The MCP endpoint and the credentials the client uses. */
  endpoint: string;
  token: string | undefined;
  /** Publishes one event; resolves to the `id` onEvent sees on it. */
  publish(fields?: { type?: string; customerId?: string }): Promise<string>;
  /** The subscription (relay filter or draft event type) for these types, or for every event. */
  subscription(types?: string[]): Pick<SubscribeOptions, 'filter' | 'event'>;
  /** The cursor the server gives for the position right after event `id`. */
  cursorAfter(id: string): string | undefined;
  /** Marks the log's current end; the returned function gives the ids published since, in log order. */
  mark(): Promise<() => Promise<string[]>>;
  /** Events of the caller's group not yet acknowledged, for the polling tools (this relay only). */
  pending?(): Promise<number>;
  close(): Promise<void>;
}

export interface TargetKind {
  name: string;
  /** The modes this server supports (the polling tools are this relay's own). */
  modes: ClientMode[];
  start(options?: { streamLifetimeMs?: number }): Promise<ClientTarget>;
}

export const relayTarget: TargetKind = {
  name: 'this relay',
  modes: ['push', 'poll', 'tools', 'auto'],
  async start(options = {}) {
    const relay = await startMcpRelay(options.streamLifetimeMs === undefined ? {} : { RELAY_STREAM_LIFETIME: `${options.streamLifetimeMs}ms` });
    return {
      endpoint: `${relay.url}/mcp`,
      token: keys.alice,
      publish: (fields = {}) => ingest(relay, fields),
      subscription: (types) => (types ? { filter: { types } } : {}),
      // The relay's cursor is the event's log id.
      cursorAfter: (id) => id,
      async mark() {
        const origin = (await relay.log.head()) ?? '0'.repeat(26);
        return () => logIdsAfter(relay, origin);
      },
      pending: async () => (await relay.log.pending('alice')).pending,
      close: () => relay.close(),
    };
  },
};

export const independentTarget: TargetKind = {
  name: 'an independent Events server',
  modes: ['push', 'poll', 'auto'],
  async start(options = {}) {
    const server = await startIndependentEventsServer({ streamLifetimeMs: options.streamLifetimeMs });
    const published: { id: string; eventId: string }[] = [];
    return {
      endpoint: server.url,
      token: undefined,
      async publish({ type = 'payment.failed', customerId = 'cus_test' } = {}) {
        const id = `act_${published.length + 1}`;
        published.push({ id, eventId: server.publish({ kind: type, id, customerId }).eventId });
        return id;
      },
      subscription: (types) => ({ event: { name: EVENT_NAME, arguments: types ? { kinds: types } : {} } }),
      cursorAfter: (id) => server.cursorAfter(published.find((p) => p.id === id)?.eventId ?? ''),
      async mark() {
        const from = published.length;
        return async () => published.slice(from).map((p) => p.id);
      },
      close: () => server.close(),
    };
  },
};

export const targetKinds = [relayTarget, independentTarget];
