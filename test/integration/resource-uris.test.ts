import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/app.js';
import { groupUri } from '../../src/mcp/resource-uris.js';
import { type Agent, connectLegacyAgent, connectModernAgent, ingest, keys, modernPost, rawLegacySession, readRpc, startMcpRelay, toolOutcome } from '../support/mcp-clients.js';

const UPDATED = 'notifications/resources/updated';
const NESTED = 'events://alice/v1-x';
/** A group name with every character a URI reserves, and escapes that must stay text. */
const RESERVED = 'alice/50%off & a%2Fb?c#d:e@f,g;h=i+j é';

type Reader = {
  readResource(request: { uri: string }): Promise<{ contents: unknown[] }>;
  callTool(request: { name: string; arguments: Record<string, unknown> }): Promise<unknown>;
};

async function read(agent: Agent<Reader>, uri: string): Promise<{ uri: string; body: Record<string, unknown> }> {
  const [content] = (await agent.client.readResource({ uri })).contents as { uri: string; text: string }[];
  return { uri: content!.uri, body: JSON.parse(content!.text) as Record<string, unknown> };
}

/** The URI of the first resources/updated notification, once it arrives. */
async function notifiedUri(agent: Agent<unknown>): Promise<string> {
  const items = await agent.notifications.until((all) => all.some((n) => n.method === UPDATED), UPDATED);
  return items.find((n) => n.method === UPDATED)!.params!.uri as string;
}

function claim(agent: Agent<Reader>, group: string) {
  return agent.client.callTool({ name: 'check_pending_events', arguments: { group } }).then(toolOutcome);
}

describe('events:// URIs of nested consumer groups, as notified, listed and read', () => {
  let relay: Relay;
  let agents: Agent<any>[];
  let listens: { close(): Promise<void> }[];
  beforeEach(async () => {
    relay = await startMcpRelay();
    agents = [];
    listens = [];
  });
  afterEach(async () => {
    for (const listen of listens) await listen.close();
    for (const agent of agents) await agent.close();
    await relay.close();
  });

  /** Alice watching `uri` in both eras: a 2025-11-25 `resources/subscribe`, a 2026-07-28 `subscriptions/listen`. */
  async function watchInBothEras(uri: string): Promise<Agent<Reader>[]> {
    const legacy = await connectLegacyAgent(relay);
    const modern = await connectModernAgent(relay);
    agents.push(legacy, modern);
    await legacy.client.subscribeResource({ uri });
    const listen = await modern.client.listen({ resourceSubscriptions: [uri] } as never);
    listens.push(listen);
    expect(listen.honoredFilter).toMatchObject({ resourceSubscriptions: [uri] });
    return [legacy, modern];
  }

  it('notifies a subscriber and a listener of events://alice/v1-x under that URI, and each reads back exactly it', async () => {
    const watchers = await watchInBothEras(NESTED);
    const id = await ingest(relay);
    for (const agent of watchers) {
      const uri = await notifiedUri(agent);
      expect(uri).toBe(NESTED);
      expect(await read(agent, uri)).toEqual({ uri: NESTED, body: expect.objectContaining({ group: 'alice/v1-x', pending: 1, next: [expect.objectContaining({ id })] }) });
    }
  });

  it('reads the name encoded whole (events://alice%2Fv1-x) as the same group, and notifies that spelling to who used it', async () => {
    const alias = 'events://alice%2Fv1-x';
    const watchers = await watchInBothEras(alias);
    await ingest(relay);
    for (const agent of watchers) {
      expect(await notifiedUri(agent)).toBe(alias);
      expect(await read(agent, alias)).toMatchObject({ uri: alias, body: { group: 'alice/v1-x', pending: 1 } });
    }
  });

  it('round-trips a group name with reserved characters and escapes in both eras, tools and resources naming the same group', async () => {
    const uri = groupUri(RESERVED);
    expect(uri).toBe('events://alice/50%25off%20%26%20a%252Fb%3Fc%23d%3Ae%40f%2Cg%3Bh%3Di%2Bj%20%C3%A9');
    const watchers = await watchInBothEras(uri);
    const id = await ingest(relay);
    for (const agent of watchers) expect(await notifiedUri(agent)).toBe(uri);
    expect((await claim(watchers[1]!, RESERVED)).body.events).toEqual([expect.objectContaining({ id })]);
    for (const agent of watchers) {
      expect(await read(agent, uri)).toEqual({ uri, body: expect.objectContaining({ group: RESERVED, pending: 1, leased: 1, next: [] }) });
    }
    expect((await read(watchers[0]!, groupUri('alice/50%off'))).body).toMatchObject({ group: 'alice/50%off', pending: 1, leased: 0, next: [{ id }] });
  });

  it("lists the caller's own group under the URI it reads", async () => {
    const alice = await connectModernAgent(relay);
    agents.push(alice);
    const { resources } = await alice.client.listResources();
    expect(resources.map((r) => r.uri)).toEqual(['events://alice']);
    expect((await read(alice, 'events://alice')).body).toMatchObject({ group: 'alice' });
  });

  it('reads a nested URI over the raw wire of both eras, the answer naming the URI as sent', async () => {
    await ingest(relay);
    const session = await rawLegacySession(relay);
    const legacy = await readRpc(await session.post({ id: 1, method: 'resources/read', params: { uri: NESTED } }));
    const modern = await readRpc(await modernPost(relay, 'resources/read', { uri: NESTED }, { headers: { 'mcp-name': NESTED } }));
    for (const answer of [legacy, modern]) {
      const [content] = (answer.result as { contents: { uri: string; text: string }[] }).contents;
      expect(content!.uri).toBe(NESTED);
      expect(JSON.parse(content!.text)).toMatchObject({ group: 'alice/v1-x', pending: 1 });
    }
  });

  it("refuses another principal's nested group in every spelling with -32012, and drops it from bob's listen filter", async () => {
    const bob = await connectLegacyAgent(relay, { key: keys.bob });
    const modernBob = await connectModernAgent(relay, { key: keys.bob });
    agents.push(bob, modernBob);
    for (const uri of ['events://alice/x', 'events://alice%2Fx', 'events://alice']) {
      await expect(bob.client.readResource({ uri }), uri).rejects.toMatchObject({ code: -32012 });
      await expect(modernBob.client.readResource({ uri }), uri).rejects.toMatchObject({ code: -32012 });
      await expect(bob.client.subscribeResource({ uri }), uri).rejects.toMatchObject({ code: -32012 });
    }
    const listen = await modernBob.client.listen({ resourceSubscriptions: ['events://alice/x', 'events://alice%2Fx', 'events://bob/x'] } as never);
    listens.push(listen);
    expect(listen.honoredFilter).toMatchObject({ resourceSubscriptions: ['events://bob/x'] });
    const raw = await readRpc(await modernPost(relay, 'resources/read', { uri: 'events://alice/x' }, { key: keys.bob, headers: { 'mcp-name': 'events://alice/x' } }));
    expect(raw.error).toMatchObject({ code: -32012, data: { kind: 'group' } });
  });

  it('answers -32602 "Resource not found" for an events:// URI that names no group a principal can have', async () => {
    const alice = await connectLegacyAgent(relay);
    agents.push(alice);
    for (const uri of ['events://alice?x=1', 'events://alice/x#y', `events://alice/${'x'.repeat(130)}`]) {
      await expect(alice.client.readResource({ uri }), uri).rejects.toMatchObject({ code: -32602, message: expect.stringContaining('Resource not found') });
    }
  });
});

describe('a group name listened to in either spelling stays in use (RELAY_MAX_GROUPS_PER_PRINCIPAL=1)', () => {
  let relay: Relay;
  let agents: Agent<any>[];
  beforeEach(async () => {
    relay = await startMcpRelay({ RELAY_MAX_GROUPS_PER_PRINCIPAL: '1' });
    agents = [];
  });
  afterEach(async () => {
    for (const agent of agents) await agent.close();
    await relay.close();
  });

  it.each(['events://alice/a', 'events://alice%2Fa'])('is not forgotten while a session subscribes to %s', async (uri) => {
    const alice = await connectLegacyAgent(relay);
    agents.push(alice);
    expect((await claim(alice, 'alice/a')).isError).toBe(false);
    await alice.client.subscribeResource({ uri });
    expect((await claim(alice, 'alice/b')).body).toMatchObject({ error: 'limit_reached', limit: 'groups', max: 1 });
    await alice.client.unsubscribeResource({ uri });
    expect((await claim(alice, 'alice/b')).isError).toBe(false);
  });
});
