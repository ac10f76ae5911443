import { describe, expect, it } from 'vitest';
import { anyMatch, hmacSha256, safeEqual, standardWebhooksKey, usableSecrets } from '../../../src/ingest/signature.js';

describe('safeEqual', () => {
  it('is true for equal strings', () => {
    expect(safeEqual('abc123', 'abc123')).toBe(true);
  });

  it.each([
    ['of different lengths', 'abc', 'abcd'],
    ['of equal JS length but different byte length (non-ASCII)', `é${'a'.repeat(63)}`, 'a'.repeat(64)],
    ['where one is odd-length hex', 'a'.repeat(63), 'a'.repeat(64)],
    ['differing only in case', 'ABCDEF', 'abcdef'],
    ['where one is empty', '', 'a'],
  ])('is false, without throwing, for strings %s', (_label, a, b) => {
    expect(() => safeEqual(a, b)).not.toThrow();
    expect(safeEqual(a, b)).toBe(false);
  });
});

describe('anyMatch', () => {
  it('is true when any expected value equals any candidate', () => {
    expect(anyMatch(['x1', 'x2'], ['junk', 'x2'])).toBe(true);
  });

  it('is false when either list is empty', () => {
    expect(anyMatch([], ['x'])).toBe(false);
    expect(anyMatch(['x'], [])).toBe(false);
  });
});

describe('hmacSha256', () => {
  it('equals one HMAC over the concatenated parts', () => {
    const whole = hmacSha256('k', [Buffer.from('1700000000.{"a":1}')], 'hex');
    expect(hmacSha256('k', ['1700000000.', Buffer.from('{"a":1}')], 'hex')).toBe(whole);
  });
});

describe('usableSecrets', () => {
  it('trims surrounding whitespace, including a trailing newline from a secrets file', () => {
    expect(usableSecrets(['whsec_abc\n', '  old\r\n'])).toEqual(['whsec_abc', 'old']);
  });

  it('drops blank entries so they can never match', () => {
    expect(usableSecrets(['', ' \n', 'k'])).toEqual(['k']);
  });
});

describe('standardWebhooksKey', () => {
  const key = Buffer.from('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'base64');

  it('base64-decodes the part after whsec_', () => {
    expect(standardWebhooksKey('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')).toEqual(key);
  });

  it('accepts the bare base64 without the prefix', () => {
    expect(standardWebhooksKey('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n')).toEqual(key);
  });

  it.each(['whsec_', 'whsec_not base64!', 'whsec_abc', 'whsec_YWJj*'])('refuses %j rather than decode it leniently', (secret) => {
    expect(standardWebhooksKey(secret)).toBeUndefined();
  });
});
