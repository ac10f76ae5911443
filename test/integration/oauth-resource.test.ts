import { UnsecuredJWT, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/app.js';
import { connectLegacyAgent, connectModernAgent, ingest, keys, modernPost, startMcpRelay, toolOutcome } from '../support/mcp-clients.js';
import { startTestRelay } from '../support/relay.js';
import { challengeOf, newKey, publicKeyBytes, TestIssuer } from '../support/test-issuer.js';
import { TOOL_SCOPES } from '../../src/mcp/method-scopes.js';

const now = () => Math.floor(Date.now() / 1000);

describe('the relay as an OAuth protected resource', () => {
  let issuer: TestIssuer;
  let stranger: TestIssuer;
  let relay: Relay;
  let audience: string;
  let metadataUrl: string;

  beforeAll(async () => {
    [issuer, stranger] = await Promise.all([TestIssuer.start(), TestIssuer.start()]);
    relay = await startMcpRelay({ RELAY_OAUTH_ISSUER: issuer.url, RELAY_OAUTH_JWKS_COOLDOWN: '0', RELAY_ADMIN_PRINCIPALS: 'alice' });
    audience = `${relay.url}/mcp`;
    metadataUrl = `${relay.url}/.well-known/oauth-protected-resource/mcp`;
  });
  afterAll(async () => {
    await relay?.close();
    await Promise.all([issuer?.close(), stranger?.close()]);
  });

  it('serves its RFC 9728 metadata at the well-known URL for /mcp and at the root one', async () => {
    for (const url of [metadataUrl, `${relay.url}/.well-known/oauth-protected-resource`]) {
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        resource: audience,
        authorization_servers: [issuer.url],
        scopes_supported: ['events:read', 'events:consume', 'relay:admin'],
        bearer_methods_supported: ['header'],
        resource_name: 'mcp-event-relay',
      });
    }
    expect((await fetch(metadataUrl, { method: 'POST' })).status).toBe(405);
  });

  it('challenges every route that needs a principal: 401 naming the metadata and the scopes to ask for', async () => {
    for (const path of ['/mcp', '/feed', '/events', '/groups', '/status', '/metrics', '/customers/cus_1/context']) {
      const res = await fetch(`${relay.url}${path}`, { method: path === '/mcp' ? 'POST' : 'GET' });
      expect(res.status, path).toBe(401);
      expect(challengeOf(res), path).toEqual({ realm: 'mcp-event-relay', resource_metadata: metadataUrl, scope: 'events:read events:consume' });
      expect(await res.json()).toMatchObject({ error: 'unauthorized' });
    }
  });

  it('lets a token reach the same tools and groups as the API key of its principal, in both eras', async () => {
    const token = await issuer.sign(audience);
    const [byKey, modern, legacy] = await Promise.all([
      connectModernAgent(relay, { key: keys.alice }),
      connectModernAgent(relay, { key: token }),
      connectLegacyAgent(relay, { key: token }),
    ]);
    try {
      const toolNames = async (agent: typeof byKey | typeof legacy) => (await agent.client.listTools()).tools.map((t) => t.name).sort();
      expect(await toolNames(modern)).toEqual(await toolNames(byKey));
      expect(await toolNames(legacy)).toEqual(Object.keys(TOOL_SCOPES).sort());
      const id = await ingest(relay);
      const claimed = toolOutcome(await byKey.client.callTool({ name: 'check_pending_events', arguments: { group: 'alice/shared' } })).body;
      expect(claimed.events.map((e: { id: string }) => e.id)).toEqual([id]);
      const acked = toolOutcome(await legacy.client.callTool({ name: 'ack_event', arguments: { group: 'alice/shared', eventId: id, deliveryCount: 1 } }));
      expect(acked.body).toEqual({ acknowledged: true, count: 1 });
      const queue = await modern.client.readResource({ uri: 'events://alice/shared' });
      expect(JSON.parse(String((queue.contents[0] as { text: string }).text))).toMatchObject({ group: 'alice/shared', pending: 0 });
      const foreign = toolOutcome(await modern.client.callTool({ name: 'check_pending_events', arguments: { group: 'bob' } }));
      expect(foreign).toMatchObject({ isError: true, body: { error: 'forbidden' } });
    } finally {
      await Promise.all([byKey.close(), modern.close(), legacy.close()]);
    }
  });

  const badTokens: [string, () => Promise<string>, string][] = [
    ['expired', () => issuer.sign(audience, { iat: now() - 900, exp: now() - 600 }), 'the token has expired'],
    ['not yet valid', () => issuer.sign(audience, { nbf: now() + 600 }), 'the token is not valid yet'],
    ['for another audience', () => issuer.sign(relay.url), 'the token was issued for another resource'],
    ['from an issuer the relay does not trust', () => stranger.sign(audience), 'the token is not from an issuer this relay trusts'],
    ['without expiry', () => issuer.sign(audience, { exp: undefined }), 'the token has no expiry'],
    ['unsigned (alg none)', async () => new UnsecuredJWT({ iss: issuer.url, aud: audience, sub: 'alice', exp: now() + 300 }).encode(), 'the token is not signed with an accepted algorithm (RS256, ES256, EdDSA)'],
    [
      'HS256 with the public key as secret',
      async () =>
        new SignJWT({ iss: issuer.url, aud: audience, sub: 'alice', exp: now() + 300 })
          .setProtectedHeader({ alg: 'HS256', kid: issuer.current.kid })
          .sign(await publicKeyBytes(issuer.current)),
      'the token is not signed with an accepted algorithm (RS256, ES256, EdDSA)',
    ],
    ['signed with a key the issuer never published (unknown kid)', async () => issuer.sign(audience, {}, { key: await newKey() }), 'no signing key of the issuer matches the token'],
    ['signed with another key under a published kid', async () => issuer.sign(audience, {}, { key: await newKey(), kid: issuer.current.kid }), 'the token signature does not verify'],
    ['with a principal API keys could not have', () => issuer.sign(audience, { sub: 'Alice!' }), "the token's sub claim is not a usable principal"],
    ['for the reserved principal relay', () => issuer.sign(audience, { sub: 'relay' }), "the token's sub claim is not a usable principal"],
    ['without a principal', () => issuer.sign(audience, { sub: undefined }), "the token's sub claim is not a usable principal"],
    ['shaped like a JWT but not one', async () => 'eyJub3Qi.eyJqc29uIg.c2ln', 'the token is not a valid JWT'],
    ['neither an API key nor a JWT', async () => 'not-a-key-nor-a-token', 'the bearer token is not valid'],
  ];

  it.each(badTokens)('refuses a token %s: 401 invalid_token with the metadata URL', async (_what, token, description) => {
    const res = await modernPost(relay, 'tools/list', {}, { key: await token() });
    expect(res.status).toBe(401);
    expect(challengeOf(res)).toEqual({
      realm: 'mcp-event-relay',
      resource_metadata: metadataUrl,
      scope: 'events:read events:consume',
      error: 'invalid_token',
      error_description: description,
    });
    expect(await res.json()).toEqual({ error: 'unauthorized', message: description });
  });

  it('follows a key rotation: a token of the new key is accepted once the JWKS is fetched again, one of the retired key refused', async () => {
    const before = await issuer.sign(audience);
    expect((await modernPost(relay, 'tools/list', {}, { key: before })).status).toBe(200);
    const fetches = issuer.jwksFetches;
    await issuer.rotate();
    const after = await issuer.sign(audience);
    expect((await modernPost(relay, 'tools/list', {}, { key: after })).status).toBe(200);
    expect(issuer.jwksFetches).toBe(fetches + 1);
    const retired = await modernPost(relay, 'tools/list', {}, { key: before });
    expect(retired.status).toBe(401);
    expect(challengeOf(retired).error_description).toBe('no signing key of the issuer matches the token');
  });

  it('answers a token without the scope a request needs with 403 insufficient_scope naming it, in both eras and on HTTP routes', async () => {
    const readOnly = await issuer.sign(audience, { scope: 'events:read' });
    const consumeOnly = await issuer.sign(audience, { scope: undefined, scp: ['events:consume'] });
    const insufficient = async (res: Response, scope: string) => {
      expect(res.status).toBe(403);
      expect(challengeOf(res)).toMatchObject({ resource_metadata: metadataUrl, error: 'insufficient_scope', scope });
      expect(await res.json()).toMatchObject({ error: 'insufficient_scope' });
    };
    const callTool = (token: string, name: string, args: Record<string, unknown>) =>
      modernPost(relay, 'tools/call', { name, arguments: args }, { key: token, headers: { 'mcp-name': name } });
    await insufficient(await callTool(readOnly, 'check_pending_events', {}), 'events:consume');
    await insufficient(await modernPost(relay, 'events/poll', { name: 'cx_events', cursor: null }, { key: consumeOnly }), 'events:read');
    await insufficient(await modernPost(relay, 'resources/read', { uri: 'events://alice' }, { key: readOnly }), 'events:consume');
    expect((await callTool(readOnly, 'get_customer_context', { customerId: 'cus_1' })).status).toBe(200);
    expect((await callTool(consumeOnly, 'check_pending_events', {})).status).toBe(200);

    const legacy = await connectLegacyAgent(relay, { key: readOnly });
    try {
      await expect(legacy.client.callTool({ name: 'check_pending_events', arguments: {} })).rejects.toMatchObject({ code: 403, message: expect.stringContaining('insufficient_scope') });
      expect(toolOutcome(await legacy.client.callTool({ name: 'get_customer_context', arguments: { customerId: 'cus_1' } })).isError).toBe(false);
    } finally {
      await legacy.close();
    }

    const get = (path: string, token: string) => fetch(`${relay.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    await insufficient(await get('/feed', consumeOnly), 'events:read');
    await insufficient(await get('/events', consumeOnly), 'events:read');
    await insufficient(await get('/groups', readOnly), 'events:consume');
    await insufficient(await get('/status', consumeOnly), 'events:read');
    expect((await get('/groups', consumeOnly)).status).toBe(200);
  });

  it('makes relay:admin the admin: writes and every group for it, an insufficient_scope challenge without it, whatever RELAY_ADMIN_PRINCIPALS says', async () => {
    const seek = (token: string) =>
      fetch(`${relay.url}/groups/bob/seek`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"to":"now"}' });
    const listedButUnscoped = await seek(await issuer.sign(audience));
    expect(listedButUnscoped.status).toBe(403);
    expect(challengeOf(listedButUnscoped)).toMatchObject({ error: 'insufficient_scope', scope: 'relay:admin' });
    const admin = await issuer.sign(audience, { sub: 'carol', scope: 'relay:admin' });
    expect((await seek(admin)).status).toBe(200);
    const groups = (await (await fetch(`${relay.url}/groups`, { headers: { authorization: `Bearer ${admin}` } })).json()) as { groups: { group: string }[] };
    expect(groups.groups.map((g) => g.group)).toContain('bob');
    const byKey = await seek(keys.bob);
    expect(byKey.status).toBe(403);
    expect(byKey.headers.get('www-authenticate')).toBeNull();
  });

  it('answers the authorization server endpoints clients look for with JSON 404 naming the issuer', async () => {
    for (const [method, path] of [
      ['POST', '/register'],
      ['GET', '/authorize'],
      ['POST', '/token'],
      ['GET', '/.well-known/oauth-authorization-server'],
      ['GET', '/.well-known/oauth-authorization-server/mcp'],
      ['GET', '/.well-known/openid-configuration'],
      ['GET', '/.well-known/openid-configuration/mcp'],
    ] as const) {
      const res = await fetch(`${relay.url}${path}`, { method });
      expect(res.status, path).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await res.json()).toEqual({
        error: 'not_found',
        message: `this relay is an OAuth resource server, not an authorization server: get a token from ${issuer.url} (see ${metadataUrl})`,
      });
    }
  });
});

describe('a relay with API keys and no authorization server', () => {
  it('serves metadata naming no authorization server, points every 401 at it, and says at the OAuth endpoints that it takes API keys', async () => {
    const relay = await startTestRelay({ RELAY_API_KEYS: `${keys.alice}:alice` });
    try {
      const metadataUrl = `${relay.url}/.well-known/oauth-protected-resource/mcp`;
      for (const path of ['/mcp', '/feed', '/status', '/events']) {
        const missing = await fetch(`${relay.url}${path}`, { method: path === '/mcp' ? 'POST' : 'GET' });
        expect(missing.status, path).toBe(401);
        expect(challengeOf(missing), path).toEqual({ realm: 'mcp-event-relay', resource_metadata: metadataUrl });
      }
      const metadata = await fetch(metadataUrl);
      expect(metadata.status).toBe(200);
      const document = (await metadata.json()) as Record<string, unknown>;
      expect(document).toMatchObject({ resource: `${relay.url}/mcp`, bearer_methods_supported: ['header'] });
      expect(document).not.toHaveProperty('authorization_servers');
      for (const path of ['/register', '/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
        const res = await fetch(`${relay.url}${path}`, { method: path === '/register' ? 'POST' : 'GET' });
        expect(res.status).toBe(404);
        expect(await res.json()).toEqual({
          error: 'not_found',
          message: 'this relay is not an OAuth authorization server: it takes API keys (Authorization: Bearer <key>, configured with RELAY_API_KEYS)',
        });
      }
    } finally {
      await relay.close();
    }
  });
});
