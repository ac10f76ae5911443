import { describe, expect, it } from 'vitest';
import { metadataUrls } from '../../../src/http/issuer-keys.js';

describe("where an issuer's metadata is looked for", () => {
  it('tries RFC 8414 then OpenID Connect Discovery for an issuer without a path', () => {
    expect(metadataUrls('https://auth.example.com')).toEqual([
      'https://auth.example.com/.well-known/oauth-authorization-server',
      'https://auth.example.com/.well-known/openid-configuration',
    ]);
    expect(metadataUrls('https://auth.example.com/')).toEqual(metadataUrls('https://auth.example.com'));
  });

  it('inserts the path after the well-known name, then appends the OpenID one, for an issuer with a path', () => {
    expect(metadataUrls('https://auth.example.com/tenant1')).toEqual([
      'https://auth.example.com/.well-known/oauth-authorization-server/tenant1',
      'https://auth.example.com/.well-known/openid-configuration/tenant1',
      'https://auth.example.com/tenant1/.well-known/openid-configuration',
    ]);
  });
});
