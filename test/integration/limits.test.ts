import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpApp, type HttpParts, type Relay } from '../../src/app.js';
import { openBackend } from '../../src/backend.js';
import { loadConfig } from '../../src/config.js';
import type { EventLog } from '../../src/log/event-log.js';
import { createLogger } from '../../src/observe/logger.js';
import { connectModernAgent, eventually, ingest, keys, modernPost, readRpc, startMcpRelay } from '../support/mcp-clients.js';
import { secretEnv } from '../support/relay.js';

/**
 * The budgets for what a client holds open besides push streams: `/feed` connections,
 * 2026-07-28 `subscriptions/listen` streams and waiting `events/poll` requests. Each relay
 * allows two per principal and three in total, for three principals: alice fills her own
 * bound, bob still gets in, then the relay is full for carol and bob alike; a slot comes back
 * once the relay has seen its holder go.
 */
const CAROL_KEY = 'carol-test-key-0123456789';
const API_KEYS = `${keys.alice}:alice,${keys.bob}:bob,${CAROL_KEY}:carol`;
const key = { alice: keys.alice, bob: keys.bob, carol: CAROL_KEY };

type ModernAgent = Awaited<ReturnType<typeof connectModernAgent>>;

describe('GET /feed connection limits', () => {
  let relay: Relay;
  const open: AbortController[] = [];
  afterEach(async () => {
    for (const abort of open.splice(0)) abort.abort();
    await relay.close();
  });

  /** Requests a feed; a refused one is answered at once, an accepted one stays open until the test ends it. */
  async function feed(bearer: string): Promise<{ status: number; headers: Headers; body?: unknown; abort: AbortController }> {
    const abort = new AbortController();
    const res = await fetch(`${relay.url}/feed`, { headers: { authorization: `Bearer ${bearer}` }, signal: abort.signal });
    if (res.status === 200) {
      open.push(abort);
      return { status: 200, headers: res.headers, abort };
    }
    return { status: res.status, headers: res.headers, body: await res.json(), abort };
  }

  it('refuses a feed over RELAY_MAX_FEEDS_PER_PRINCIPAL or RELAY_MAX_FEEDS with 429, Retry-After and the limit, before any stream starts', async () => {
    relay = await startMcpRelay({ RELAY_API_KEYS: API_KEYS, RELAY_MAX_FEEDS_PER_PRINCIPAL: '2', RELAY_MAX_FEEDS: '3' });
    const first = await feed(key.alice);
    expect([first.status, first.headers.get('content-type')]).toEqual([200, 'text/event-stream; charset=utf-8']);
    expect((await feed(key.alice)).status).toBe(200);

    const mine = await feed(key.alice);
    expect(mine.status).toBe(429);
    expect(mine.headers.get('retry-after')).toBe('5');
    expect(mine.headers.get('content-type')).toMatch(/^application\/json/);
    expect(mine.body).toEqual({ error: 'limit_reached', limit: 'feeds', max: 2, message: 'at most 2 feeds per principal are open at once' });

    expect((await feed(key.bob)).status).toBe(200);
    const full = { error: 'limit_reached', limit: 'feeds_total', max: 3, message: 'the relay holds its maximum of 3 feeds; try again later' };
    for (const bearer of [key.carol, key.bob]) {
      const refused = await feed(bearer);
      expect([refused.status, refused.headers.get('retry-after'), refused.body]).toEqual([429, '5', full]);
    }

    first.abort.abort();
    const carol = await eventually(async () => {
      const attempt = await feed(key.carol);
      if (attempt.status === 200) return attempt;
      expect(attempt.body).toEqual(full);
      return undefined;
    }, "the relay to see alice's feed close");
    expect(carol.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect((await feed(key.alice)).body).toEqual(full);
  });
});

describe('2026-07-28 subscriptions/listen limits', () => {
  let relay: Relay;
  const agents: ModernAgent[] = [];
  afterEach(async () => {
    for (const agent of agents.splice(0)) await agent.close();
    await relay.close();
  });

  const connect = async (bearer: string) => {
    const agent = await connectModernAgent(relay, { key: bearer });
    agents.push(agent);
    return agent;
  };
  /** Listens on the principal's own queue (another principal's URI would not be honoured, and the stream would end at once). */
  const listen = (agent: ModernAgent, principal: string) => agent.client.listen({ resourceSubscriptions: [`events://${principal}`] });
  const rawListen = (bearer: string, principal: string) => modernPost(relay, 'subscriptions/listen', { notifications: { resourceSubscriptions: [`events://${principal}`] } }, { key: bearer });

  it('refuses a listen over RELAY_MAX_LISTENS_PER_PRINCIPAL or RELAY_MAX_LISTENS with -32013 {limit, max}, and frees the slot on close', async () => {
    relay = await startMcpRelay({ RELAY_API_KEYS: API_KEYS, RELAY_MAX_LISTENS_PER_PRINCIPAL: '2', RELAY_MAX_LISTENS: '3' });
    const [alice, bob, carol] = [await connect(key.alice), await connect(key.bob), await connect(key.carol)];
    const [first] = [await listen(alice, 'alice'), await listen(alice, 'alice')];

    const mine = await rawListen(key.alice, 'alice');
    expect(mine.status).toBe(200);
    const refusal = await readRpc(mine);
    expect(refusal).toEqual({
      jsonrpc: '2.0',
      id: expect.any(Number),
      error: { code: -32013, message: 'at most 2 listens per principal are open at once', data: { limit: 'listens', max: 2 } },
    });
    await expect(listen(alice, 'alice')).rejects.toMatchObject({ code: -32013, data: { limit: 'listens', max: 2 } });

    await listen(bob, 'bob');
    const full = { code: -32013, message: 'the relay holds its maximum of 3 listens; try again later', data: { limit: 'listens_total', max: 3 } };
    expect((await readRpc(await rawListen(key.carol, 'carol'))).error).toEqual(full);
    await expect(listen(bob, 'bob')).rejects.toMatchObject({ code: -32013, data: full.data });

    await first!.close();
    const freed = await eventually(
      () =>
        listen(carol, 'carol').then(
          (subscription) => subscription,
          (error: { code?: number; data?: unknown }) => {
            expect([error.code, error.data]).toEqual([full.code, full.data]);
            return undefined;
          },
        ),
      "the relay to see alice's listen stream close",
    );
    expect(freed.honoredFilter).toEqual({ resourceSubscriptions: ['events://carol'] });
  });
});

describe('events/poll long-poll limits', () => {
  let parts: HttpParts;
  let log: EventLog;
  let server: Server;
  let relay: { url: string };
  afterEach(async () => {
    await parts.mcp.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await log.close();
  });

  /** A relay whose parts the test can see: how many long polls it holds is not on the wire. */
  async function start(env: Record<string, string>): Promise<void> {
    const config = loadConfig({ PORT: '0', RELAY_STORE: 'memory', ...secretEnv, RELAY_API_KEYS: API_KEYS, ...env });
    const backend = openBackend(config.store, config.log);
    log = backend.log;
    parts = createHttpApp(backend, config, createLogger('silent'));
    server = createServer(parts.listener);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    relay = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  }

  const held = (principal?: string) => parts.context.longPolls.held(principal);
  const waitUntilHeld = (count: number, principal?: string) =>
    eventually(async () => (held(principal) === count ? true : undefined), `${count} long polls held${principal ? ` by ${principal}` : ''}`);

  /** An `events/poll` after `cursor`, answered as its JSON-RPC message; `abort` disconnects it. */
  function poll(bearer: string, cursor: string, timeoutMs: number) {
    const abort = new AbortController();
    const answer = modernPost(relay, 'events/poll', { name: 'cx_events', cursor, timeoutMs }, { key: bearer, signal: abort.signal }).then(async (res) => {
      expect(res.status).toBe(200);
      return readRpc(res);
    });
    return { answer, abort };
  }

  it('refuses a waiting poll over RELAY_MAX_LONG_POLLS_PER_PRINCIPAL or RELAY_MAX_LONG_POLLS with -32013, and releases each slot when its wait ends', async () => {
    await start({ RELAY_MAX_LONG_POLLS_PER_PRINCIPAL: '2', RELAY_MAX_LONG_POLLS: '3' });
    const cursor = (await readRpc(await modernPost(relay, 'events/poll', { name: 'cx_events', cursor: null }))).result!.cursor as string;
    const waiting = [poll(key.alice, cursor, 60_000), poll(key.alice, cursor, 60_000)];
    await waitUntilHeld(2, 'alice');

    const mine = await poll(key.alice, cursor, 60_000).answer;
    expect(mine).toEqual({
      jsonrpc: '2.0',
      id: expect.any(Number),
      error: { code: -32013, message: 'at most 2 long polls per principal are open at once', data: { limit: 'long_polls', max: 2 } },
    });
    expect((await poll(key.alice, cursor, 0).answer).result).toMatchObject({ events: [], cursor });

    waiting.push(poll(key.bob, cursor, 60_000));
    await waitUntilHeld(3);
    const full = { code: -32013, message: 'the relay holds its maximum of 3 long polls; try again later', data: { limit: 'long_polls_total', max: 3 } };
    expect((await poll(key.carol, cursor, 60_000).answer).error).toEqual(full);
    expect((await poll(key.bob, cursor, 60_000).answer).error).toEqual(full);

    // A client that disconnects gives its slot back.
    const [gone] = waiting.splice(0, 1);
    gone!.abort.abort();
    await expect(gone!.answer).rejects.toThrow();
    await waitUntilHeld(1, 'alice');
    waiting.push(poll(key.carol, cursor, 60_000));
    await waitUntilHeld(1, 'carol');
    expect(held()).toBe(3);

    // An event ends every wait, and with it every slot.
    const id = await ingest(relay);
    for (const { answer } of waiting) expect((await answer).result).toMatchObject({ events: [{ cursor: id }], cursor: id });
    expect(held()).toBe(0);

    // So does the timeout.
    expect((await poll(key.alice, id, 1).answer).result).toMatchObject({ events: [], cursor: id });
    expect(held()).toBe(0);
  });
});
