import { describe, expect, it } from 'vitest';
import { customerUri, groupOfUri, groupUri, groupUris } from '../../../src/mcp/resource-uris.js';

/** Names a consumer group may have (any 1–128 characters): nested, reserved characters, escapes that look decoded, dot parts. */
const NAMES = [
  'alice',
  'alice/v1-x',
  'alice/a/b/c',
  'alice/50%off',
  'alice/a%2Fb',
  'alice/%E0%A4%A',
  'alice/a b?c#d&e=f+g,h;i:j@k',
  'alice/é✓',
  'alice/',
  'alice//x',
  'alice/.',
  'alice/..',
  'alice/x/../y',
  'me@corp/x',
  '/leading',
];

describe('events:// URIs of consumer groups', () => {
  it('keeps the / of a nested group and encodes each part: events://alice/v1-x, events://alice/50%25off', () => {
    expect(groupUri('alice')).toBe('events://alice');
    expect(groupUri('alice/v1-x')).toBe('events://alice/v1-x');
    expect(groupUri('alice/50%off')).toBe('events://alice/50%25off');
    expect(groupUri('alice/a%2Fb')).toBe('events://alice/a%252Fb');
    expect(groupUri('me@corp/x')).toBe('events://me%40corp/x');
  });

  it('encodes whole a name a URL parser would change as a path (a . or .. part, an empty first part)', () => {
    expect(groupUri('alice/..')).toBe('events://alice%2F..');
    expect(groupUri('alice/x/./y')).toBe('events://alice%2Fx%2F.%2Fy');
    expect(groupUri('/leading')).toBe('events://%2Fleading');
  });

  it.each(NAMES)('round-trips %j, through the string and through new URL (as the SDK reads it)', (name) => {
    const uri = groupUri(name);
    expect(groupOfUri(uri)).toBe(name);
    expect(new URL(uri).href).toBe(uri);
  });

  it('reads the name encoded whole (events://alice%2Fv1-x) as the same group, and lists both spellings', () => {
    expect(groupOfUri('events://alice%2Fv1-x')).toBe('alice/v1-x');
    expect(groupUris('alice/v1-x')).toEqual(['events://alice/v1-x', 'events://alice%2Fv1-x']);
    expect(groupUris('alice')).toEqual(['events://alice']);
  });

  it('is not a group URI without a first part, with a query or fragment, or under another scheme', () => {
    for (const uri of ['events://', 'events:///x', 'events://alice?x=1', 'events://alice/x#y', 'event://alice', 'customer://alice/context']) {
      expect(groupOfUri(uri), uri).toBeUndefined();
    }
  });

  it('refuses malformed percent-encoding with -32602', () => {
    expect(() => groupOfUri('events://alice/%E0%A4%A')).toThrow(expect.objectContaining({ code: -32602 }));
  });

  it('encodes a customer id whole', () => {
    expect(customerUri('cus/1 2')).toBe('customer://cus%2F1%202/context');
  });
});
