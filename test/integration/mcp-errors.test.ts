import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/app.js';
import {
  type Agent,
  connectLegacyAgent,
  connectModernAgent,
  keys,
  LEGACY_VERSION,
  MODERN_VERSION,
  modernPost,
  type RawSession,
  rawLegacySession,
  readRpc,
  startMcpRelay,
} from '../support/mcp-clients.js';

const MALFORMED = ['events://%E0%A4%A', 'customer://%E0%A4%A/context'];

/** `[[…]]` nested `depth` deep. */
const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

/** POSTs a JSON-RPC request given as text, with the headers every `/mcp` request here carries plus `headers`. */
function postRaw(relay: Relay, body: string, headers: Record<string, string>): Promise<Response> {
  return fetch(`${relay.url}/mcp`, {
    method: 'POST',
    headers: { authorization: `Bearer ${keys.alice}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body,
  });
}

/** A 2026-07-28 `server/discover` whose params carry `x`, given as JSON text: the message is 2 + depth(x) deep. */
function modernRequestWith(relay: Relay, xJson: string): Promise<Response> {
  const meta = JSON.stringify({
    'io.modelcontextprotocol/protocolVersion': MODERN_VERSION,
    'io.modelcontextprotocol/clientInfo': { name: 'relay-integration-test', version: '1.0.0' },
    'io.modelcontextprotocol/clientCapabilities': {},
  });
  return postRaw(relay, `{"jsonrpc":"2.0","id":7,"method":"server/discover","params":{"x":${xJson},"_meta":${meta}}}`, {
    'mcp-protocol-version': MODERN_VERSION,
    'mcp-method': 'server/discover',
  });
}

/** A 2025-11-25 `ping` in `session` whose params carry `x`, given as JSON text: the message is 2 + depth(x) deep. */
function legacyRequestWith(relay: Relay, session: RawSession, xJson: string): Promise<Response> {
  return postRaw(relay, `{"jsonrpc":"2.0","id":7,"method":"ping","params":{"x":${xJson}}}`, {
    'mcp-session-id': session.id,
    'mcp-protocol-version': LEGACY_VERSION,
  });
}

async function expectTooDeep(res: Response): Promise<void> {
  expect(res.status).toBe(400);
  expect(await res.json()).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32600, message: expect.stringContaining('deeper than 64') } });
}

describe('MCP errors', () => {
  let relay: Relay;
  let legacy: Agent<Awaited<ReturnType<typeof connectLegacyAgent>>['client']>;
  let modern: Agent<Awaited<ReturnType<typeof connectModernAgent>>['client']>;
  let session: RawSession;
  beforeAll(async () => {
    relay = await startMcpRelay();
    legacy = await connectLegacyAgent(relay);
    modern = await connectModernAgent(relay);
    session = await rawLegacySession(relay);
  });
  afterAll(async () => {
    await legacy.close();
    await modern.close();
    await relay.close();
  });

  it('answers resources/read of a URI with malformed percent-encoding with -32602 in both eras', async () => {
    for (const uri of MALFORMED) {
      await expect(legacy.client.readResource({ uri })).rejects.toMatchObject({ code: -32602, message: expect.stringContaining('percent-encoding') });
      await expect(modern.client.readResource({ uri })).rejects.toMatchObject({ code: -32602, message: expect.stringContaining('percent-encoding') });
    }
  });

  it('answers resources/subscribe of such a URI with -32602, and honours no such URI in subscriptions/listen', async () => {
    await expect(legacy.client.subscribeResource({ uri: 'events://%E0%A4%A' })).rejects.toMatchObject({ code: -32602 });
    const listen = await modern.client.listen({ resourceSubscriptions: ['events://%E0%A4%A', 'events://alice'] } as never);
    expect(listen.honoredFilter).toMatchObject({ resourceSubscriptions: ['events://alice'] });
    await listen.close();
  });

  it('answers resources/read (both eras), subscribe and unsubscribe (2025-11-25) without a string uri with -32602, not an internal error', async () => {
    for (const method of ['resources/read', 'resources/subscribe', 'resources/unsubscribe']) {
      for (const params of [{}, { uri: 5 }, { uri: `events://${'a'.repeat(2100)}` }]) {
        const old = await readRpc(await session.post({ id: 11, method, params }));
        expect(old.error).toMatchObject({ code: -32602, message: expect.stringContaining(`Invalid params for ${method}`) });
        const modernRes = await modernPost(relay, method, params);
        const answer = await readRpc(modernRes);
        if (method === 'resources/read') expect(answer.error).toMatchObject({ code: -32602, message: expect.stringContaining(`Invalid params for ${method}`) });
        // 2026-07-28 removed subscribe and unsubscribe: whatever their params, they are unknown methods.
        else expect([modernRes.status, answer.error?.code]).toEqual([404, -32601]);
      }
    }
  });

  it('refuses check_pending_events type patterns over 200 characters with a clear error', async () => {
    const result = await modern.client.callTool({ name: 'check_pending_events', arguments: { types: ['a'.repeat(201)] } });
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toContain('200');
  });

  it('refuses a request nested 5,000 deep with 400 and -32600 in both eras, and still answers both', async () => {
    await expectTooDeep(await modernRequestWith(relay, nested(5000)));
    await expectTooDeep(await legacyRequestWith(relay, session, nested(5000)));
    expect((await readRpc(await modernRequestWith(relay, '1'))).result).toBeDefined();
    expect(await legacy.client.ping()).toEqual({});
  });

  it('answers a body that is not JSON with 400 and -32700, and one over 4 MB with 413 and -32700', async () => {
    const post = (body: string) => fetch(`${relay.url}/mcp`, { method: 'POST', headers: { authorization: `Bearer ${keys.alice}`, 'content-type': 'application/json' }, body });
    const garbled = await post('{"jsonrpc":"2.0",');
    expect(garbled.status).toBe(400);
    expect(await garbled.json()).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
    const large = await post(`{"pad":"${'a'.repeat(4 * 1024 * 1024)}"}`);
    expect(large.status).toBe(413);
    expect(await large.json()).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'request too large' } });
  });

  it('accepts a message exactly 64 deep and refuses 65, in both eras', async () => {
    expect((await readRpc(await modernRequestWith(relay, nested(62)))).result).toBeDefined();
    await expectTooDeep(await modernRequestWith(relay, nested(63)));
    expect((await readRpc(await legacyRequestWith(relay, session, nested(62)))).result).toEqual({});
    await expectTooDeep(await legacyRequestWith(relay, session, nested(63)));
  });
});
