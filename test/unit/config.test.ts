import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, secretVariable } from '../../src/config.js';
import { parseDuration } from '../../src/duration.js';

describe('configuration', () => {
  it('defaults to loopback, port 8787 and the SQLite file under ./data', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8787,
      store: { kind: 'sqlite', path: './data/relay.db', synchronous: 'full' },
      log: { leaseMs: 30_000, maxDeliveries: 5, dedupWindowMs: 7 * 86_400_000 },
      retention: { maxAgeMs: 30 * 86_400_000, maxEvents: undefined },
    });
  });

  it('defaults the drop deadline to 5 minutes, its window to an hour and the alert to 0.1 %', () => {
    expect(loadConfig({}).observe).toEqual({ dropDeadlineMs: 300_000, dropWindowMs: 3_600_000, dropAlert: 0.001 });
    expect(loadConfig({ RELAY_DROP_DEADLINE_S: '1', RELAY_DROP_WINDOW_S: '60', RELAY_DROP_ALERT: '0.5' }).observe).toEqual({ dropDeadlineMs: 1000, dropWindowMs: 60_000, dropAlert: 0.5 });
  });

  it('reads the environment and lets flags win over it', () => {
    const env = { PORT: '9000', RELAY_STORE: 'memory', RELAY_LEASE: '2m', RELAY_API_KEYS: 'k_0123456789abcdef:alice' };
    const config = loadConfig(env, ['--port', '9100', '--host', '0.0.0.0']);
    expect(config).toMatchObject({ host: '0.0.0.0', port: 9100, store: { kind: 'memory' }, log: { leaseMs: 120_000 } });
  });

  it.each([
    [{ PORT: 'abc' }, [], /^PORT="abc": /],
    [{ PORT: '70000' }, [], /^PORT="70000": /],
    [{ RELAY_STORE: 'postgres://x' }, [], /^RELAY_STORE="postgres:\/\/x": expected sqlite:<path>, memory/],
    [{ RELAY_STORE: 'sqlite:' }, [], /^RELAY_STORE="sqlite:"/],
    [{ RELAY_STORE: 'redis://' }, [], /^RELAY_STORE="redis:\/\/": expected redis:\/\/\[user:password@\]host/],
    [{ RELAY_LEASE: 'soon' }, [], /^RELAY_LEASE="soon": expected a duration/],
    [{ RELAY_LEASE: '10ms' }, [], /^RELAY_LEASE: must be between 1s and 1h/],
    [{ RELAY_MAX_DELIVERIES: '0' }, [], /^RELAY_MAX_DELIVERIES="0"/],
    [{ RELAY_LOG_LEVEL: 'loud' }, [], /^RELAY_LOG_LEVEL="loud"/],
    [{}, ['--bogus'], /Unknown option '--bogus'/],
    [{ HOST: '0.0.0.0' }, [], /^HOST="0.0.0.0": refusing to serve without RELAY_API_KEYS or RELAY_OAUTH_ISSUER on a non-loopback address$/],
    [{ RELAY_API_KEYS: 'short:alice' }, [], /^RELAY_API_KEYS: each entry is <key>:<principal>/],
    [{ RELAY_API_KEYS: 'k_0123456789abcdef:Alice!' }, [], /^RELAY_API_KEYS: principal "Alice!" must be/],
    [{ RELAY_API_KEYS: 'k_0123456789abcdef:relay' }, [], /^RELAY_API_KEYS: principal "relay" is reserved/],
    [{ RELAY_API_KEYS: 'k_0123456789abcdef:a,k_0123456789abcdef:b' }, [], /listed twice/],
    [{ RELAY_HEARTBEAT: '45s' }, [], /^RELAY_HEARTBEAT: must be between 100ms and 30s/],
    [{ RELAY_SESSION_IDLE: '30d' }, [], /^RELAY_SESSION_IDLE: must be between 1s and 7d/],
    [{ RELAY_DROP_DEADLINE_S: '0' }, [], /^RELAY_DROP_DEADLINE_S="0"/],
    [{ RELAY_DROP_WINDOW_S: '5' }, [], /^RELAY_DROP_WINDOW_S="5"/],
    [{ RELAY_DROP_ALERT: '2' }, [], /^RELAY_DROP_ALERT="2"/],
    [{ RELAY_DROP_ALERT: 'often' }, [], /^RELAY_DROP_ALERT="often"/],
    [{ RELAY_OAUTH_ISSUER: 'http://auth.example.com' }, [], /^RELAY_OAUTH_ISSUER="http:\/\/auth.example.com": expected an https URL without query or fragment \(http only on loopback\)$/],
    [{ RELAY_OAUTH_ISSUER: 'auth.example.com' }, [], /^RELAY_OAUTH_ISSUER="auth.example.com": expected an https URL/],
    [{ RELAY_OAUTH_ISSUER: 'https://auth.example.com/?tenant=1' }, [], /^RELAY_OAUTH_ISSUER="https:\/\/auth.example.com\/\?tenant=1": expected an https URL/],
    [{ RELAY_OAUTH_ISSUER: 'https://a.example.com', RELAY_OAUTH_JWKS_URL: 'http://keys.example.com/jwks' }, [], /^RELAY_OAUTH_JWKS_URL="http:\/\/keys.example.com\/jwks": expected an https URL/],
    [{ RELAY_OAUTH_ISSUER: 'https://a.example.com,https://b.example.com', RELAY_OAUTH_JWKS_URL: 'https://a.example.com/jwks' }, [], /^RELAY_OAUTH_JWKS_URL: only with a single RELAY_OAUTH_ISSUER/],
    [{ RELAY_OAUTH_JWKS_URL: 'https://a.example.com/jwks' }, [], /^RELAY_OAUTH_JWKS_URL: set RELAY_OAUTH_ISSUER too/],
    [{ RELAY_OAUTH_PRINCIPAL_CLAIM: 'email' }, [], /^RELAY_OAUTH_PRINCIPAL_CLAIM: set RELAY_OAUTH_ISSUER too/],
    [{ RELAY_OAUTH_JWKS_COOLDOWN: '1m' }, [], /^RELAY_OAUTH_JWKS_COOLDOWN: set RELAY_OAUTH_ISSUER too/],
    [{ RELAY_OAUTH_ISSUER: 'https://a.example.com', RELAY_OAUTH_PRINCIPAL_CLAIM: 'a claim' }, [], /^RELAY_OAUTH_PRINCIPAL_CLAIM="a claim": expected a claim name/],
    [{ RELAY_OAUTH_ISSUER: 'https://a.example.com', RELAY_OAUTH_JWKS_COOLDOWN: 'soon' }, [], /^RELAY_OAUTH_JWKS_COOLDOWN="soon": expected a duration/],
    [{ RELAY_OAUTH_ISSUER: 'https://a.example.com', RELAY_OAUTH_JWKS_COOLDOWN: '1h' }, [], /^RELAY_OAUTH_JWKS_COOLDOWN: must be at most 10m$/],
    [{ HOST: '0.0.0.0', RELAY_OAUTH_ISSUER: 'https://a.example.com' }, [], /^RELAY_OAUTH_ISSUER: set RELAY_PUBLIC_URL to the address clients use/],
  ])('fails fast with one line naming the setting: %j %j', (env, argv, message) => {
    const attempt = () => loadConfig(env, argv);
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(message);
    try {
      attempt();
    } catch (error) {
      expect((error as Error).message).not.toContain('\n');
    }
  });

  it.each([
    ['250', 250],
    ['250ms', 250],
    ['30s', 30_000],
    ['15m', 900_000],
    ['24h', 86_400_000],
    ['7d', 604_800_000],
    ['7 days', undefined],
    ['-1s', undefined],
  ])('parses the duration %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });
});

describe('access configuration', () => {
  it('maps API keys to principals and allows open access on loopback only', () => {
    const config = loadConfig({ RELAY_API_KEYS: ' k_0123456789abcdef:alice , k_fedcba9876543210:bob-2 ' });
    expect([...config.apiKeys]).toEqual([
      ['k_0123456789abcdef', 'alice'],
      ['k_fedcba9876543210', 'bob-2'],
    ]);
    expect(loadConfig({ HOST: '::1' }).apiKeys.size).toBe(0);
    expect(loadConfig({ HOST: '127.0.0.2' }).host).toBe('127.0.0.2');
  });
});

describe('webhook source configuration', () => {
  it('splits secret lists, trims them and drops blanks, current first', () => {
    const { webhooks } = loadConfig({ STRIPE_WEBHOOK_SECRET: ' whsec_new ,whsec_old\n,', RELAY_SOURCES: 'acme:standard, billing:stripe', ACME_WEBHOOK_SECRET: 'whsec_x' });
    const byName = Object.fromEntries(webhooks.sources.map((s) => [s.name, s]));
    expect(byName.stripe).toEqual({ name: 'stripe', provider: 'stripe', secrets: ['whsec_new', 'whsec_old'], secretVariable: 'STRIPE_WEBHOOK_SECRET' });
    expect(byName.acme).toMatchObject({ provider: 'standard', secrets: ['whsec_x'] });
    expect(byName.billing).toMatchObject({ provider: 'stripe', secrets: [], secretVariable: 'BILLING_WEBHOOK_SECRET' });
    expect(byName.shopify!.secrets).toEqual([]);
  });

  it('names secret variables after the source', () => {
    expect(secretVariable('my-shop')).toBe('MY_SHOP_WEBHOOK_SECRET');
  });

  it('defaults to a 300 s tolerance and a 1 MiB body limit', () => {
    expect(loadConfig({}).webhooks).toMatchObject({ toleranceS: 300, maxBodyBytes: 1_048_576 });
  });
});
