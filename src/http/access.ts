import type { AuthInfo } from '@modelcontextprotocol/server';
import type express from 'express';
import { type AccessTokens, looksLikeJwt } from './access-tokens.js';
import type { ProtectedResource } from './protected-resource.js';
import { SCOPES, type Credential } from './scopes.js';

/** The principal every request runs as when no API keys are configured (loopback only). */
export const OPEN_PRINCIPAL = 'local';

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by {@link bearerAuth}; the SDK transports hand it to handlers as `authInfo`. */
    auth?: AuthInfo;
  }
}

function authFor(token: string, principal: string, credential: Credential, admin: boolean, scopes: string[] = [], expiresAt?: number): AuthInfo {
  return { token, clientId: principal, scopes, expiresAt, extra: { principal, credential, admin } };
}

export interface AccessOptions {
  /** `RELAY_API_KEYS`: bearer key → principal. */
  apiKeys: ReadonlyMap<string, string>;
  /** `RELAY_ADMIN_PRINCIPALS`: API-key principals that are admins. */
  admins: ReadonlySet<string>;
  /** Access tokens from the configured issuers; `undefined` without `RELAY_OAUTH_ISSUER`. */
  tokens: AccessTokens | undefined;
  /** Answers 401 with the challenge that points at the protected-resource metadata. */
  resource: ProtectedResource;
}

/**
 * Bearer credentials: an API key from `RELAY_API_KEYS`, mapped to its principal, or a JWT
 * access token from a configured issuer, whose principal claim is the principal and whose
 * scopes bound what it may do. Anything else is 401 with a `WWW-Authenticate` challenge.
 * Without keys and issuers the relay is open (it then only listens on loopback) and every
 * request is {@link OPEN_PRINCIPAL}. An issuer whose keys cannot be fetched fails the request
 * (503 `issuer_unavailable`, through the error handler).
 */
export function bearerAuth(options: AccessOptions): express.RequestHandler {
  const { apiKeys, admins, tokens, resource } = options;
  return async (req, res, next) => {
    if (apiKeys.size === 0 && !tokens) {
      req.auth = authFor('', OPEN_PRINCIPAL, 'open', true);
      return next();
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!match) return resource.unauthorized(res, { invalid: false, message: 'a bearer token is required (Authorization: Bearer <key or access token>)' });
    const bearer = match[1]!;
    const principal = apiKeys.get(bearer);
    if (principal !== undefined) {
      req.auth = authFor(bearer, principal, 'key', admins.has(principal));
      return next();
    }
    if (!tokens || !looksLikeJwt(bearer)) return resource.unauthorized(res, { invalid: true, message: 'the bearer token is not valid' });
    const outcome = await tokens.verify(bearer);
    if (!outcome.ok) return resource.unauthorized(res, { invalid: true, message: outcome.reason });
    const { token } = outcome;
    req.auth = authFor(bearer, token.principal, 'token', token.scopes.includes(SCOPES.admin), token.scopes, token.expiresAt);
    next();
  };
}

/** The principal a request runs as: the one its bearer key or token maps to, {@link OPEN_PRINCIPAL} on an open relay. */
export function principalOf(auth: AuthInfo | undefined): string {
  const principal = auth?.extra?.principal;
  return typeof principal === 'string' ? principal : OPEN_PRINCIPAL;
}

/**
 * Whether a request may write through the operator API and see every group: an API key of a
 * principal in `RELAY_ADMIN_PRINCIPALS`, an access token with `relay:admin`, anyone on an open relay.
 */
export function isAdmin(auth: AuthInfo | undefined): boolean {
  return auth?.extra?.admin === true;
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

/** The hostname of a `Host` header or of an origin without its scheme; '' when unparsable (`null`). */
function hostnameOf(hostHeader: string): string {
  try {
    return new URL(`http://${hostHeader}`).hostname;
  } catch {
    return '';
  }
}

/**
 * DNS-rebinding and cross-site protection. A relay bound to loopback only answers requests
 * addressed to a loopback name; a browser `Origin` must be the relay's own host, loopback,
 * or listed in `RELAY_ALLOWED_ORIGINS`. Anything else is 403 before it reaches a handler.
 */
export function originCheck(options: { loopbackOnly: boolean; allowedOrigins: readonly string[] }): express.RequestHandler {
  const allowed = new Set(options.allowedOrigins.map((o) => o.replace(/\/$/, '')));
  return (req, res, next) => {
    const host = hostnameOf(req.headers.host ?? '');
    if (options.loopbackOnly && !LOOPBACK_NAMES.has(host)) {
      res.status(403).json({ error: 'forbidden_host', message: 'this relay only answers requests addressed to localhost' });
      return;
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !allowed.has(origin)) {
      const originHost = hostnameOf(origin.replace(/^[a-z][a-z0-9+.-]*:\/\//i, ''));
      if (originHost !== host && !LOOPBACK_NAMES.has(originHost)) {
        res.status(403).json({ error: 'forbidden_origin', message: 'cross-origin requests are refused; list the origin in RELAY_ALLOWED_ORIGINS' });
        return;
      }
    }
    next();
  };
}
