import { describe, expect, it } from 'vitest';
import { ConfigError, describeStore, loadConfig } from '../../src/config.js';

describe('RELAY_STORE', () => {
  it.each([
    ['redis://127.0.0.1:6379', 'redis://127.0.0.1:6379'],
    ['redis://:s3cret@cache.internal:6380/2', 'redis://cache.internal:6380/2'],
    ['rediss://relay:s3cret@cache.example.com', 'rediss://cache.example.com'],
  ])('accepts %s and describes it as %s, password left out', (url, described) => {
    const { store } = loadConfig({ RELAY_STORE: url });
    expect(store).toEqual({ kind: 'redis', url, requireDurable: false });
    expect(describeStore(store)).toBe(described);
  });

  it.each([
    ['redis://'],
    ['redis://host:99999'],
    ['redis://host:6379/zero'],
    ['rediss://:pw@'],
  ])('rejects the malformed Redis URL %s with one line', (url) => {
    expect(() => loadConfig({ RELAY_STORE: url })).toThrow(ConfigError);
    expect(() => loadConfig({ RELAY_STORE: url })).toThrow(/^RELAY_STORE=".*": expected redis:\/\/\[user:password@\]host\[:port\]\[\/db\]/);
  });

  it('takes RELAY_REDIS_REQUIRE_DURABLE=1 for a Redis store, and nothing but 0 or 1', () => {
    expect(loadConfig({ RELAY_STORE: 'redis://127.0.0.1:6379', RELAY_REDIS_REQUIRE_DURABLE: '1' }).store).toMatchObject({ requireDurable: true });
    expect(() => loadConfig({ RELAY_STORE: 'redis://127.0.0.1:6379', RELAY_REDIS_REQUIRE_DURABLE: 'yes' })).toThrow(/^RELAY_REDIS_REQUIRE_DURABLE="yes": /);
  });

  it('masks the password of a rejected Redis URL', () => {
    const attempt = () => loadConfig({ RELAY_STORE: 'redis://relay:s3cret@host:6379/db0' });
    expect(attempt).toThrow('RELAY_STORE="redis://relay:***@host:6379/db0"');
    expect(attempt).not.toThrow(/s3cret/);
  });

  it('names every store kind when the scheme is unknown', () => {
    expect(() => loadConfig({ RELAY_STORE: 'postgres://x' })).toThrow(/memory, redis:\/\/host:port or rediss:\/\/host:port$/);
  });
});
