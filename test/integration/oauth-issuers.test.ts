import { afterEach, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/app.js';
import { modernPost, rawLegacySession, startMcpRelay } from '../support/mcp-clients.js';
import { type MetadataKind, TestIssuer } from '../support/test-issuer.js';

/**
 * Where the relay finds an issuer's keys (RFC 8414 metadata, OpenID Connect Discovery, or
 * `RELAY_OAUTH_JWKS_URL`), several issuers side by side, an issuer that cannot be reached or
 * lies, the principal claim, and a 2025-11-25 session across a refreshed token.
 */
describe('issuers of access tokens', () => {
  const open: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((o) => o.close()));
  });

  async function issuerWith(metadata: MetadataKind): Promise<TestIssuer> {
    const issuer = await TestIssuer.start({ metadata });
    open.push(issuer);
    return issuer;
  }

  async function relayWith(env: Record<string, string>): Promise<Relay> {
    const relay = await startMcpRelay({ RELAY_OAUTH_JWKS_COOLDOWN: '0', ...env });
    open.unshift(relay);
    return relay;
  }

  const listTools = (relay: Relay, token: string) => modernPost(relay, 'tools/list', {}, { key: token });

  it('finds the keys through OpenID Connect Discovery when the issuer has no RFC 8414 metadata', async () => {
    const issuer = await issuerWith('openid');
    const relay = await relayWith({ RELAY_OAUTH_ISSUER: issuer.url });
    expect((await listTools(relay, await issuer.sign(`${relay.url}/mcp`))).status).toBe(200);
  });

  it('takes RELAY_OAUTH_JWKS_URL as given, without reading metadata', async () => {
    const issuer = await issuerWith('none');
    const relay = await relayWith({ RELAY_OAUTH_ISSUER: issuer.url, RELAY_OAUTH_JWKS_URL: issuer.jwksUrl });
    expect((await listTools(relay, await issuer.sign(`${relay.url}/mcp`))).status).toBe(200);
  });

  it('accepts the tokens of several issuers, each checked against its own keys', async () => {
    const [first, second] = await Promise.all([issuerWith('oauth'), issuerWith('oauth')]);
    const relay = await relayWith({ RELAY_OAUTH_ISSUER: `${first.url},${second.url}` });
    const audience = `${relay.url}/mcp`;
    expect((await listTools(relay, await first.sign(audience))).status).toBe(200);
    expect((await listTools(relay, await second.sign(audience))).status).toBe(200);
    const crossed = await listTools(relay, await first.sign(audience, {}, { key: second.current }));
    expect(crossed.status).toBe(401);
    const metadata = (await (await fetch(`${relay.url}/.well-known/oauth-protected-resource/mcp`)).json()) as { authorization_servers: string[] };
    expect(metadata.authorization_servers).toEqual([first.url, second.url]);
  });

  it('answers 503 issuer_unavailable while the issuer publishes no metadata, and accepts tokens once it does', async () => {
    const issuer = await issuerWith('none');
    const relay = await relayWith({ RELAY_OAUTH_ISSUER: issuer.url });
    const token = await issuer.sign(`${relay.url}/mcp`);
    const refused = await listTools(relay, token);
    expect(refused.status).toBe(503);
    expect(await refused.json()).toEqual({ error: 'issuer_unavailable', message: "the token issuer's signing keys could not be fetched; retry shortly" });
    issuer.metadata = 'oauth';
    expect((await listTools(relay, token)).status).toBe(200);
  });

  it('answers 503 while the key set cannot be fetched', async () => {
    const issuer = await issuerWith('oauth');
    const relay = await relayWith({ RELAY_OAUTH_ISSUER: issuer.url, RELAY_OAUTH_JWKS_URL: `${issuer.url}/no-such-jwks.json` });
    const res = await listTools(relay, await issuer.sign(`${relay.url}/mcp`));
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: 'issuer_unavailable' });
  });

  it.each([
    ['names another issuer', (issuer: TestIssuer) => ({ issuer: `${issuer.url}/other` })],
    ['points at a key set over http on another origin', (issuer: TestIssuer) => ({ jwks_uri: issuer.jwksUrl.replace('127.0.0.1', 'localhost') })],
    ['gives no jwks_uri', () => ({ jwks_uri: undefined })],
  ])('refuses metadata that %s: 503, no token accepted', async (_what, overrides) => {
    const issuer = await issuerWith('oauth');
    issuer.metadataOverrides = overrides(issuer);
    const relay = await relayWith({ RELAY_OAUTH_ISSUER: issuer.url });
    const res = await listTools(relay, await issuer.sign(`${relay.url}/mcp`));
    expect(res.status).toBe(503);
    expect(issuer.jwksFetches).toBe(0);
  });

  it('maps RELAY_OAUTH_PRINCIPAL_CLAIM to the principal', async () => {
    const issuer = await issuerWith('oauth');
    const relay = await relayWith({ RELAY_OAUTH_ISSUER: issuer.url, RELAY_OAUTH_PRINCIPAL_CLAIM: 'email' });
    const token = await issuer.sign(`${relay.url}/mcp`, { sub: 'auth0|64F0C2', email: 'dana@example.com' });
    const res = await modernPost(relay, 'resources/list', {}, { key: token });
    const listed = (await res.json()) as { result: { resources: { name: string }[] } };
    expect(listed.result.resources.map((r) => r.name)).toEqual(['pending events of dana@example.com']);
    expect((await listTools(relay, await issuer.sign(`${relay.url}/mcp`, { email: undefined }))).status).toBe(401);
  });

  it('keeps a 2025-11-25 session going with a refreshed token of its principal, and refuses another principal on it', async () => {
    const issuer = await issuerWith('oauth');
    const relay = await relayWith({ RELAY_OAUTH_ISSUER: issuer.url });
    const audience = `${relay.url}/mcp`;
    const session = await rawLegacySession(relay, { key: await issuer.sign(audience) });
    const refreshed = await issuer.sign(audience, { iat: Math.floor(Date.now() / 1000) + 1 });
    expect((await session.post({ id: 2, method: 'tools/list' }, { authorization: `Bearer ${refreshed}` })).status).toBe(200);
    const other = await session.post({ id: 3, method: 'tools/list' }, { authorization: `Bearer ${await issuer.sign(audience, { sub: 'bob' })}` });
    expect(other.status).toBe(403);
  });
});
