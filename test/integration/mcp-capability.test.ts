import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Relay } from '../../src/app.js';
import {
  connectLegacyAgent,
  connectModernAgent,
  type Inbox,
  ingest,
  keys,
  LEGACY_VERSION,
  modernPost,
  rawLegacySession,
  readRpc,
  type Received,
  startMcpRelay,
  toolOutcome,
} from '../support/mcp-clients.js';

/** What the tests need from an agent of either era that did not declare `events`. */
interface PollingAgent {
  request(method: string, params: Record<string, unknown>): Promise<unknown>;
  callTool(name: string, args: Record<string, unknown>): Promise<ReturnType<typeof toolOutcome>>;
  /** Subscribes to `uri` the way its era does: `resources/subscribe`, or `subscriptions/listen`. */
  subscribe(uri: string): Promise<void>;
  notifications: Inbox<Received>;
  close(): Promise<void>;
}

/**
 * How each era refuses a client that did not declare `events`: 2026-07-28 has
 * MissingRequiredClientCapability (-32021, HTTP 400); a 2025-11-25 session has no such code
 * and gets the Events draft's Unsupported (-32014).
 */
const legacyRefusal = { code: -32014, data: { feature: 'events', missingCapability: 'events' } };
const modernRefusal = { code: -32021, data: { requiredCapabilities: { events: {} } } };

const eras: { era: string; refusal: Record<string, unknown>; connect(relay: Relay): Promise<PollingAgent> }[] = [
  {
    era: 'a 2025-11-25 client (v1 SDK)',
    refusal: legacyRefusal,
    async connect(relay) {
      const agent = await connectLegacyAgent(relay, { events: false });
      return {
        request: (method, params) => agent.client.request({ method, params }, z.object({}).passthrough()),
        callTool: (name, args) => agent.client.callTool({ name, arguments: args }).then(toolOutcome),
        subscribe: (uri) => agent.client.subscribeResource({ uri }).then(() => undefined),
        notifications: agent.notifications,
        close: agent.close,
      };
    },
  },
  {
    era: 'a 2026-07-28 client (v2 SDK)',
    refusal: modernRefusal,
    async connect(relay) {
      const agent = await connectModernAgent(relay, { events: false });
      return {
        request: (method, params) => agent.client.request({ method, params } as never, z.looseObject({})),
        callTool: (name, args) => agent.client.callTool({ name, arguments: args }).then(toolOutcome),
        subscribe: (uri) => agent.client.listen({ resourceSubscriptions: [uri] } as never).then(() => undefined),
        notifications: agent.notifications,
        close: agent.close,
      };
    },
  },
];

for (const { era, refusal, connect } of eras) {
  describe(`${era} that did not declare the events capability`, () => {
    let relay: Relay;
    let agent: PollingAgent;
    beforeEach(async () => {
      relay = await startMcpRelay();
      agent = await connect(relay);
    });
    afterEach(async () => {
      await agent.close();
      await relay.close();
    });

    for (const [method, params] of [
      ['events/list', {}],
      ['events/poll', { name: 'cx_events', cursor: null }],
      ['events/stream', { name: 'cx_events', cursor: null }],
    ] as const) {
      it(`is refused ${method} with ${String(refusal.code)} whose data names the missing capability`, async () => {
        await expect(agent.request(method, params)).rejects.toMatchObject({ ...refusal, message: expect.stringContaining('events') });
      });
    }

    it('leases and acknowledges events with the polling tools all the same', async () => {
      const id = await ingest(relay);
      const pending = await agent.callTool('check_pending_events', {});
      expect(pending.isError).toBe(false);
      expect(pending.body.events.map((e: { id: string }) => e.id)).toEqual([id]);
      expect(await agent.callTool('ack_event', { eventId: id })).toEqual({ isError: false, body: { acknowledged: true, count: 1 } });
    });

    it('receives no event notifications, only the resources/updated it subscribed to', async () => {
      await agent.subscribe('events://alice');
      await expect(agent.request('events/stream', { name: 'cx_events', cursor: null })).rejects.toMatchObject(refusal);
      await ingest(relay);
      await agent.notifications.until((n) => n.some((x) => x.method === 'notifications/resources/updated'), 'resources/updated');
      expect(agent.notifications.items.filter((n) => n.method.startsWith('notifications/events/'))).toEqual([]);
    });
  });
}

describe('opting in to events', () => {
  let relay: Relay;
  beforeEach(async () => {
    relay = await startMcpRelay();
  });
  afterEach(() => relay.close());

  for (const capabilities of [{ events: {} }, { experimental: { events: {} } }, { extensions: { 'io.modelcontextprotocol/events': {} } }]) {
    it(`accepts ${JSON.stringify(capabilities)} in a modern request's clientCapabilities`, async () => {
      const answer = await readRpc(await modernPost(relay, 'events/poll', { name: 'cx_events', cursor: null }, { capabilities }));
      expect(answer.error).toBeUndefined();
      expect(answer.result).toMatchObject({ events: [], truncated: false });
    });

    it(`accepts ${JSON.stringify(capabilities)} in a legacy initialize`, async () => {
      const session = await rawLegacySession(relay, { capabilities });
      const answer = await readRpc(await session.post({ id: 3, method: 'events/poll', params: { name: 'cx_events', cursor: null } }));
      expect(answer.error).toBeUndefined();
      expect(answer.result).toMatchObject({ events: [], truncated: false });
    });
  }

  it('advertises the extension under events, experimental.events and extensions in a legacy initialize result', async () => {
    const res = await fetch(`${relay.url}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${keys.alice}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: LEGACY_VERSION, capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }),
    });
    const events = { listChanged: true };
    expect((await readRpc(res)).result?.capabilities).toMatchObject({ events, experimental: { events }, extensions: { 'io.modelcontextprotocol/events': events } });
  });

  it('judges each modern request by its own clientCapabilities', async () => {
    expect((await readRpc(await modernPost(relay, 'events/list', {}, { capabilities: { events: {} } }))).result?.events).toEqual(expect.any(Array));
    expect((await readRpc(await modernPost(relay, 'events/list', {}, { capabilities: {} }))).error).toMatchObject(modernRefusal);
  });

  for (const [method, params] of [
    ['events/list', {}],
    ['events/poll', { name: 'cx_events', cursor: null }],
    ['events/stream', { name: 'cx_events', cursor: null }],
  ] as const) {
    it(`answers a modern ${method} without the capability with HTTP 400, -32021 and data.requiredCapabilities, as 2026-07-28 asks`, async () => {
      const res = await modernPost(relay, method, params, { capabilities: {} });
      expect(res.status).toBe(400);
      expect(await readRpc(res)).toMatchObject({ id: expect.anything(), error: modernRefusal });
    });
  }

  it('answers a legacy session without the capability with HTTP 200 and -32014, the code its era has', async () => {
    const session = await rawLegacySession(relay, { capabilities: {} });
    const res = await session.post({ id: 4, method: 'events/poll', params: { name: 'cx_events', cursor: null } });
    expect(res.status).toBe(200);
    expect(await readRpc(res)).toMatchObject({ id: 4, error: legacyRefusal });
  });
});
