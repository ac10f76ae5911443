import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import { type CryptoKey, exportJWK, exportSPKI, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';

/** A signing key of the test issuer: its private half signs, its public JWK is what the JWKS serves. */
export interface IssuerKey {
  kid: string;
  alg: 'RS256' | 'ES256' | 'EdDSA';
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
}

/** Where the issuer publishes its metadata: RFC 8414, OpenID Connect Discovery only, or nowhere. */
export type MetadataKind = 'oauth' | 'openid' | 'none';

export async function newKey(alg: IssuerKey['alg'] = 'ES256'): Promise<IssuerKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = `k-${randomUUID()}`;
  return { kid, alg, privateKey, publicKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** The public key as PEM bytes: what an algorithm-confusion attack signs HS256 tokens with. */
export async function publicKeyBytes(key: IssuerKey): Promise<Uint8Array> {
  return new TextEncoder().encode(await exportSPKI(key.publicKey));
}

/**
 * A local OAuth authorization server on 127.0.0.1 for the tests: keys generated here, its
 * metadata (naming its `jwks_uri`) and its JWKS served over node:http, tokens signed here.
 * It rotates keys on demand and counts JWKS fetches.
 */
export class TestIssuer {
  /** The keys the JWKS serves. */
  published: IssuerKey[] = [];
  /** The key tokens are signed with by default. */
  current!: IssuerKey;
  jwksFetches = 0;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    /** Where the metadata is published; a test may change it. */
    public metadata: MetadataKind,
  ) {}

  /** Fields the metadata document states instead of the true ones (a lying or misconfigured issuer). */
  metadataOverrides: Record<string, unknown> = {};

  static async start(options: { metadata?: MetadataKind; alg?: IssuerKey['alg'] } = {}): Promise<TestIssuer> {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const issuer = new TestIssuer(server, url, options.metadata ?? 'oauth');
    server.on('request', (req, res) => issuer.answer(req.url ?? '', res));
    await issuer.rotate(options.alg);
    return issuer;
  }

  get jwksUrl(): string {
    return `${this.url}/jwks.json`;
  }

  /** A new signing key, published alone: the previous one is retired. */
  async rotate(alg?: IssuerKey['alg']): Promise<IssuerKey> {
    this.current = await newKey(alg);
    this.published = [this.current];
    return this.current;
  }

  /** Signs `claims` over defaults valid for `audience`: this issuer, principal `alice`, both event scopes, five minutes. */
  sign(audience: string, claims: JWTPayload = {}, options: { key?: IssuerKey; kid?: string } = {}): Promise<string> {
    const key = options.key ?? this.current;
    const now = Math.floor(Date.now() / 1000);
    const payload = { iss: this.url, aud: audience, sub: 'alice', scope: 'events:read events:consume', iat: now, exp: now + 300, ...claims };
    return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: options.kid ?? key.kid, typ: 'at+jwt' }).sign(key.privateKey);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private answer(path: string, res: ServerResponse): void {
    const document = { issuer: this.url, jwks_uri: this.jwksUrl, authorization_endpoint: `${this.url}/authorize`, token_endpoint: `${this.url}/token`, ...this.metadataOverrides };
    let body: unknown;
    if (path === '/jwks.json') {
      this.jwksFetches++;
      body = { keys: this.published.map((k) => k.jwk) };
    } else if ((path === '/.well-known/oauth-authorization-server' && this.metadata === 'oauth') || (path === '/.well-known/openid-configuration' && this.metadata === 'openid')) {
      body = document;
    }
    res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' }).end(JSON.stringify(body ?? { error: 'not_found' }));
  }
}

/** The parameters of a response's `WWW-Authenticate: Bearer …` challenge. */
export function challengeOf(res: Response): Record<string, string> {
  const header = res.headers.get('www-authenticate') ?? '';
  expect(header).toMatch(/^Bearer /);
  return Object.fromEntries([...header.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
}
