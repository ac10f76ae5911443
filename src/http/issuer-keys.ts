import { createRemoteJWKSet, errors, type JWTVerifyGetKey } from 'jose';

/** An authorization server's signing keys could not be had: its failure or the network's, not the token's. */
export class IssuerUnavailable extends Error {
  override readonly name = 'IssuerUnavailable';
}

export interface IssuerKeysOptions {
  /** The issuer's JWKS; `undefined`: discovered from its metadata. */
  jwksUrl: string | undefined;
  /** The least time between two fetches of the key set on a `kid` it does not hold, and between two failed discoveries. */
  cooldownMs: number;
  /** One request to the issuer. */
  timeoutMs: number;
}

/**
 * Where an issuer publishes its metadata, in the order MCP clients try them: OAuth 2.0
 * Authorization Server Metadata (RFC 8414, with the issuer's path after the well-known
 * name), then OpenID Connect Discovery (path inserted, then appended).
 */
export function metadataUrls(issuer: string): string[] {
  const { origin, pathname } = new URL(issuer);
  const path = pathname.replace(/\/$/, '');
  if (path === '') return [`${origin}/.well-known/oauth-authorization-server`, `${origin}/.well-known/openid-configuration`];
  return [
    `${origin}/.well-known/oauth-authorization-server${path}`,
    `${origin}/.well-known/openid-configuration${path}`,
    `${origin}${path}/.well-known/openid-configuration`,
  ];
}

/** What the key set tells about the token (its `kid` or algorithm), as opposed to failing to be fetched. */
function isTokensFault(error: unknown): boolean {
  return (
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys ||
    error instanceof errors.JOSEAlgNotAllowed ||
    error instanceof errors.JOSENotSupported
  );
}

/**
 * One issuer's signing keys: jose's remote key set (cached; a `kid` it does not hold refetches
 * the set, at most once per cooldown, so a rotated key is found and a retired one refused), over
 * the configured JWKS URL or the `jwks_uri` of the issuer's metadata, discovered on first use.
 * The metadata must name this issuer exactly (RFC 8414 §3.3), and its `jwks_uri` must be https
 * or on the issuer's own origin. A failure to fetch either is {@link IssuerUnavailable}.
 */
export class IssuerKeys {
  #keys: JWTVerifyGetKey | undefined;
  #discovery: Promise<JWTVerifyGetKey> | undefined;
  #failedAt = Number.NEGATIVE_INFINITY;

  constructor(
    readonly issuer: string,
    private readonly options: IssuerKeysOptions,
  ) {
    if (options.jwksUrl !== undefined) this.#keys = this.#remote(options.jwksUrl);
  }

  /** jose's key lookup for a token from this issuer. */
  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    const keys = this.#keys ?? (await this.#discover());
    try {
      return await keys(header, token);
    } catch (error) {
      if (isTokensFault(error)) throw error;
      throw new IssuerUnavailable(`the signing keys of ${this.issuer} could not be fetched`, { cause: error });
    }
  };

  #remote(url: string): JWTVerifyGetKey {
    return createRemoteJWKSet(new URL(url), { cooldownDuration: this.options.cooldownMs, timeoutDuration: this.options.timeoutMs });
  }

  #discover(): Promise<JWTVerifyGetKey> {
    if (Date.now() < this.#failedAt + this.options.cooldownMs) {
      return Promise.reject(new IssuerUnavailable(`the metadata of ${this.issuer} could not be read; retrying shortly`));
    }
    this.#discovery ??= this.#jwksUri().then(
      (uri) => (this.#keys = this.#remote(uri)),
      (error: unknown) => {
        this.#failedAt = Date.now();
        this.#discovery = undefined;
        throw error;
      },
    );
    return this.#discovery;
  }

  async #jwksUri(): Promise<string> {
    const problems: string[] = [];
    for (const url of metadataUrls(this.issuer)) {
      const res = await fetch(url, { headers: { accept: 'application/json' }, redirect: 'error', signal: AbortSignal.timeout(this.options.timeoutMs) }).catch(
        (error: unknown) => {
          throw new IssuerUnavailable(`the metadata of ${this.issuer} could not be fetched from ${url}`, { cause: error });
        },
      );
      if (res.status !== 200) {
        problems.push(`${url}: ${res.status}`);
        continue;
      }
      const metadata = (await res.json().catch(() => undefined)) as { issuer?: unknown; jwks_uri?: unknown } | undefined;
      if (metadata?.issuer !== this.issuer) throw new IssuerUnavailable(`${url} names another issuer than ${this.issuer}`);
      if (typeof metadata.jwks_uri !== 'string' || !this.#trusted(metadata.jwks_uri)) {
        throw new IssuerUnavailable(`${url} gives no jwks_uri that is https or on the issuer's origin`);
      }
      return metadata.jwks_uri;
    }
    throw new IssuerUnavailable(`no metadata found for ${this.issuer} (${problems.join(', ')})`);
  }

  #trusted(jwksUri: string): boolean {
    try {
      const url = new URL(jwksUri);
      return url.protocol === 'https:' || url.origin === new URL(this.issuer).origin;
    } catch {
      return false;
    }
  }
}
