import type { AuthInfo } from '@modelcontextprotocol/server';
import type express from 'express';

/** The principal every request runs as when no API keys are configured (loopback only). */
export const OPEN_PRINCIPAL = 'local';

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by {@link bearerAuth}; the SDK transports hand it to handlers as `authInfo`. */
    auth?: AuthInfo;
  }
}

function authFor(token: string, principal: string): AuthInfo {
  return { token, clientId: principal, scopes: [], extra: { principal } };
}

/**
 * Bearer tokens from `RELAY_API_KEYS`, each mapped to a principal. Without keys the relay
 * is open (it then only listens on loopback) and every request is {@link OPEN_PRINCIPAL}.
 */
export function bearerAuth(apiKeys: ReadonlyMap<string, string>): express.RequestHandler {
  return (req, res, next) => {
    if (apiKeys.size === 0) {
      req.auth = authFor('', OPEN_PRINCIPAL);
      return next();
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    const principal = match ? apiKeys.get(match[1]!) : undefined;
    if (!match || principal === undefined) {
      res
        .status(401)
        .set('WWW-Authenticate', `Bearer realm="mcp-event-relay"${match ? ', error="invalid_token"' : ''}`)
        .json({ error: 'unauthorized', message: match ? 'the bearer token is not valid' : 'a bearer token is required (Authorization: Bearer <key>)' });
      return;
    }
    req.auth = authFor(match[1]!, principal);
    next();
  };
}

/** The principal a request runs as: the one its bearer key maps to, {@link OPEN_PRINCIPAL} on an open relay. */
export function principalOf(auth: AuthInfo | undefined): string {
  const principal = auth?.extra?.principal;
  return typeof principal === 'string' ? principal : OPEN_PRINCIPAL;
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
