import type { ServerResponse } from 'node:http';
import express from 'express';
import { methodNotAllowed, sendError } from './errors.js';
import { ALL_SCOPES, missingScopes, SCOPES, type Scope } from './scopes.js';

const METADATA_PATH = '/.well-known/oauth-protected-resource';
/** What a client without a token is told to ask for; `relay:admin` is asked for when a write needs it. */
const BASIC_SCOPES: readonly Scope[] = [SCOPES.read, SCOPES.consume];
/** Endpoints of an authorization server that clients look for on the MCP server's origin. */
const AUTHORIZATION_SERVER_PATHS = [
  '/register',
  '/authorize',
  '/token',
  '/.well-known/oauth-authorization-server',
  '/.well-known/oauth-authorization-server/*rest',
  '/.well-known/openid-configuration',
  '/.well-known/openid-configuration/*rest',
];

/** The parameters of one `WWW-Authenticate` challenge (RFC 6750 §3). */
export interface Challenge {
  error?: 'invalid_token' | 'insufficient_scope';
  /** A sentence of the relay's own: no quotes or backslashes. */
  description?: string;
  scope?: readonly Scope[];
}

/**
 * This relay as an OAuth 2.1 protected resource (MCP authorization, 2025-11-25 and
 * 2026-07-28): its resource URL (`RELAY_PUBLIC_URL` + `/mcp`, or the bound address + `/mcp`),
 * the RFC 9728 metadata naming the configured authorization servers, and the `WWW-Authenticate`
 * challenges of 401 and of 403 for scope, which point at that metadata. Without issuers (API
 * keys alone) the metadata names no authorization server and challenges ask for no scope.
 */
export class ProtectedResource {
  readonly #issuers: readonly string[];
  #url: string | undefined;

  constructor(options: { issuers: readonly string[]; publicUrl: string | undefined }) {
    this.#issuers = options.issuers;
    if (options.publicUrl !== undefined) this.#url = `${options.publicUrl}/mcp`;
  }

  /** Whether access tokens are accepted (some issuer is configured). */
  get enabled(): boolean {
    return this.#issuers.length > 0;
  }

  /** Takes the bound address as the resource's base when `RELAY_PUBLIC_URL` did not give one. */
  bind(boundUrl: string): void {
    this.#url ??= `${boundUrl}/mcp`;
  }

  /** The resource URL: the audience every access token must name. */
  get url(): string {
    if (this.#url === undefined) throw new Error('the resource URL is known once the relay is bound');
    return this.#url;
  }

  /** Where the metadata is: the well-known name inserted before the resource's path (RFC 9728 §3.1). */
  get metadataUrl(): string {
    const { origin, pathname } = new URL(this.url);
    return `${origin}${METADATA_PATH}${pathname}`;
  }

  /** The protected-resource metadata document (RFC 9728 §2). */
  metadata(): Record<string, unknown> {
    return {
      resource: this.url,
      // With API keys alone no authorization server is named (the member is optional): a client
      // learns from the document itself that there is no OAuth flow to start.
      ...(this.enabled ? { authorization_servers: [...this.#issuers] } : {}),
      scopes_supported: [...ALL_SCOPES],
      bearer_methods_supported: ['header'],
      resource_name: 'mcp-event-relay',
    };
  }

  /** A `WWW-Authenticate` value: the realm, the metadata URL and scopes when tokens are accepted, the error. */
  challenge(challenge: Challenge): string {
    const params = ['realm="mcp-event-relay"'];
    if (this.#url !== undefined) params.push(`resource_metadata="${this.metadataUrl}"`);
    if (this.enabled) params.push(`scope="${(challenge.scope ?? BASIC_SCOPES).join(' ')}"`);
    if (challenge.error) params.push(`error="${challenge.error}"`);
    if (challenge.description) params.push(`error_description="${challenge.description}"`);
    return `Bearer ${params.join(', ')}`;
  }

  /** 401: no credentials, or ones that are not valid (`error` then says `invalid_token`). */
  unauthorized(res: ServerResponse, refusal: { invalid: boolean; message: string }): void {
    const challenge = this.challenge(refusal.invalid ? { error: 'invalid_token', description: refusal.message } : {});
    sendError(res, 401, 'unauthorized', refusal.message, { 'www-authenticate': challenge });
  }

  /**
   * Refuses an access token without the scopes `neededOf` names for the request: 403 with
   * `error="insufficient_scope"` and every scope the request needs, in one challenge.
   */
  requireScopes(neededOf: (req: express.Request) => readonly Scope[]): express.RequestHandler {
    return (req, res, next) => {
      const needed = neededOf(req);
      const missing = missingScopes(req.auth, needed);
      if (missing.length === 0) return next();
      const description = `this request needs the scope${needed.length > 1 ? 's' : ''} ${needed.join(' and ')}`;
      sendError(res, 403, 'insufficient_scope', description, { 'www-authenticate': this.challenge({ error: 'insufficient_scope', description, scope: needed }) });
    };
  }

  /**
   * The metadata at `/.well-known/oauth-protected-resource` and its form for `/mcp`, and a JSON
   * 404 that says where tokens come from for the authorization server's endpoints, which
   * clients otherwise try here.
   */
  router(): express.Router {
    const router = express.Router();
    const metadataPaths = [METADATA_PATH, `${METADATA_PATH}/mcp`];
    router.get(metadataPaths, (_req, res) => {
      res.json(this.metadata());
    });
    router.all(metadataPaths, methodNotAllowed('GET, HEAD'));
    router.all(AUTHORIZATION_SERVER_PATHS, (_req, res) => {
      const message = this.enabled
        ? `this relay is an OAuth resource server, not an authorization server: get a token from ${this.#issuers.join(' or ')} (see ${this.metadataUrl})`
        : 'this relay is not an OAuth authorization server: it takes API keys (Authorization: Bearer <key>, configured with RELAY_API_KEYS)';
      sendError(res, 404, 'not_found', message);
    });
    return router;
  }
}
