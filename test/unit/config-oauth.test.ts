import { describe, expect, it } from 'vitest';
import { loadConfig, principalProblem } from '../../src/config.js';

describe('OAuth configuration', () => {
  it('is off without RELAY_OAUTH_ISSUER', () => {
    expect(loadConfig({}).oauth).toBeUndefined();
  });

  it('reads the issuers, the JWKS URL, the principal claim and the cooldown, with sub and 30s by default', () => {
    expect(loadConfig({ RELAY_OAUTH_ISSUER: 'https://auth.example.com, https://login.example.org/tenant1' }).oauth).toEqual({
      issuers: ['https://auth.example.com', 'https://login.example.org/tenant1'],
      jwksUrl: undefined,
      principalClaim: 'sub',
      jwksCooldownMs: 30_000,
    });
    const env = {
      RELAY_OAUTH_ISSUER: 'http://127.0.0.1:9000',
      RELAY_OAUTH_JWKS_URL: 'http://127.0.0.1:9000/jwks.json',
      RELAY_OAUTH_PRINCIPAL_CLAIM: 'https://example.com/principal',
      RELAY_OAUTH_JWKS_COOLDOWN: '0',
    };
    expect(loadConfig(env).oauth).toEqual({ issuers: ['http://127.0.0.1:9000'], jwksUrl: 'http://127.0.0.1:9000/jwks.json', principalClaim: 'https://example.com/principal', jwksCooldownMs: 0 });
  });

  it('serves a non-loopback address with issuers alone when RELAY_PUBLIC_URL names the resource', () => {
    const config = loadConfig({ HOST: '0.0.0.0', RELAY_OAUTH_ISSUER: 'https://auth.example.com', RELAY_PUBLIC_URL: 'https://relay.example.com' });
    expect(config.apiKeys.size).toBe(0);
    expect(config.oauth?.issuers).toEqual(['https://auth.example.com']);
  });

  it('holds token principals to the rule of API-key principals', () => {
    expect(principalProblem('alice@example.com')).toBeUndefined();
    expect(principalProblem('Alice')).toMatch(/^must be lowercase letters/);
    expect(principalProblem('auth0|64f0')).toMatch(/^must be lowercase letters/);
    expect(principalProblem('relay')).toBe("is reserved for the relay's own consumer groups");
  });
});
