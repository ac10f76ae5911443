import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/app.js';
import {
  type Agent,
  connectLegacyAgent,
  eventually,
  keys,
  LEGACY_VERSION,
  rawLegacySession,
  readRpc,
  type RpcMessage,
  startMcpRelay,
} from '../support/mcp-clients.js';
import { metricKey, scrape } from '../support/observed-relay.js';

/** A bare `initialize`, answered as the JSON-RPC message it gets (the session, if any, is left open). */
async function initialize(relay: Relay, key: string = keys.alice): Promise<{ status: number; sessionId: string | null; message: RpcMessage }> {
  const res = await fetch(`${relay.url}/mcp`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, accept: 'application/json, text/event-stream', 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'initialize', params: { protocolVersion: LEGACY_VERSION, capabilities: {}, clientInfo: { name: 'limits-test', version: '1' } } }),
  });
  return { status: res.status, sessionId: res.headers.get('mcp-session-id'), message: await readRpc(res) };
}

function deleteSession(relay: Relay, sessionId: string, key: string = keys.alice): Promise<Response> {
  return fetch(`${relay.url}/mcp`, { method: 'DELETE', headers: { authorization: `Bearer ${key}`, 'mcp-session-id': sessionId, 'mcp-protocol-version': LEGACY_VERSION } });
}

async function legacyListeners(relay: Relay): Promise<number | undefined> {
  return (await scrape(relay, { authorization: `Bearer ${keys.alice}` })).get(metricKey('relay_listeners', { era: '2025-11-25' }));
}

describe('2025-11-25 sessions within RELAY_MAX_SESSIONS_PER_PRINCIPAL=2 and RELAY_MAX_SESSIONS=3', () => {
  let relay: Relay;
  let agents: Agent<unknown>[];
  beforeEach(async () => {
    relay = await startMcpRelay({ RELAY_MAX_SESSIONS_PER_PRINCIPAL: '2', RELAY_MAX_SESSIONS: '3' });
    agents = [];
  });
  afterEach(async () => {
    for (const agent of agents) await agent.close();
    await relay.close();
  });

  it('refuses initialize over either bound with -32013 and the limit, which the SDK client raises from connect()', async () => {
    agents.push(await connectLegacyAgent(relay), await connectLegacyAgent(relay));
    await expect(connectLegacyAgent(relay)).rejects.toMatchObject({ code: -32013, data: { limit: 'sessions', max: 2 } });
    agents.push(await connectLegacyAgent(relay, { key: keys.bob }));
    await expect(connectLegacyAgent(relay, { key: keys.bob })).rejects.toMatchObject({ code: -32013, data: { limit: 'sessions_total', max: 3 } });

    const refused = await initialize(relay);
    expect(refused.status).toBe(200);
    expect(refused.sessionId).toBeNull();
    expect(refused.message).toEqual({
      jsonrpc: '2.0',
      id: 7,
      error: { code: -32013, message: 'at most 2 sessions per principal are open at once', data: { limit: 'sessions', max: 2 } },
    });
  });

  it('gives a slot back when a session ends with DELETE, and none for an initialize the SDK refused', async () => {
    const first = await initialize(relay);
    const second = await initialize(relay);
    expect([first.message.result, second.message.result]).toEqual([expect.any(Object), expect.any(Object)]);
    expect((await initialize(relay)).message.error).toMatchObject({ code: -32013 });
    expect((await deleteSession(relay, first.sessionId!)).status).toBe(200);
    const third = await initialize(relay);
    expect(third.message.result).toBeDefined();
    expect((await deleteSession(relay, third.sessionId!)).status).toBe(200);

    // The SDK transport refuses an initialize that does not accept SSE before it becomes a session.
    const refused = await fetch(`${relay.url}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${keys.alice}`, accept: 'application/json', 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: LEGACY_VERSION, capabilities: {}, clientInfo: { name: 'x', version: '1' } } }),
    });
    expect(refused.status).toBe(406);
    await refused.body?.cancel();
    expect((await initialize(relay)).message.result).toBeDefined();
  });
});

describe('a 2025-11-25 session left idle (RELAY_SESSION_IDLE=1s, one session per principal)', () => {
  let relay: Relay;
  beforeEach(async () => {
    relay = await startMcpRelay({ RELAY_SESSION_IDLE: '1s', RELAY_MAX_SESSIONS_PER_PRINCIPAL: '1' });
  });
  afterEach(() => relay.close());

  /** The moment a new session can be opened: the only slot was given back. */
  const replacement = () => eventually(async () => ((await initialize(relay)).message.result ? true : undefined), 'the idle session to be closed');

  it('is closed: its slot given back, its subscriptions dropped, its id unknown (404 -32001)', async () => {
    const session = await rawLegacySession(relay);
    expect((await readRpc(await session.post({ id: 1, method: 'resources/subscribe', params: { uri: 'events://alice' } }))).result).toEqual({});
    expect(await legacyListeners(relay)).toBe(1);
    expect((await initialize(relay)).message.error).toMatchObject({ code: -32013, data: { limit: 'sessions', max: 1 } });

    await replacement();
    const late = await session.post({ id: 2, method: 'ping' });
    expect(late.status).toBe(404);
    expect(await late.json()).toMatchObject({ error: { code: -32001, message: 'Session not found' } });
    expect(await legacyListeners(relay)).toBe(0);
  });

  it('stays open while one of its streams is, and is closed once nothing of it is', async () => {
    const session = await rawLegacySession(relay);
    const abort = new AbortController();
    const stream = await session.get({}, abort.signal);
    expect(stream.status).toBe(200);
    // Two idle periods with the GET stream open: the session must still be there.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect((await initialize(relay)).message.error).toMatchObject({ code: -32013 });
    const ping = await session.post({ id: 3, method: 'ping' });
    expect((await readRpc(ping)).result).toEqual({});

    abort.abort();
    await replacement();
    expect((await session.post({ id: 4, method: 'ping' })).status).toBe(404);
  });
});
