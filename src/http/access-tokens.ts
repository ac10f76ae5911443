import { decodeJwt, errors, jwtVerify, type JWTPayload } from 'jose';
import { IssuerKeys, IssuerUnavailable } from './issuer-keys.js';

/** OAuth access tokens as `RELAY_OAUTH_*` configure them. */
export interface OAuthSettings {
  /** Trusted issuers (`iss`), each token checked against the keys of its own. */
  issuers: string[];
  /** The one issuer's JWKS, instead of discovering it from the issuer's metadata. */
  jwksUrl: string | undefined;
  /** The claim whose value is the principal (`sub` by default). */
  principalClaim: string;
  /** The least time between two fetches of an issuer's key set on an unknown `kid`. */
  jwksCooldownMs: number;
}

/** Signature algorithms a token may use: asymmetric only, so no key the relay holds can sign one. */
const TOKEN_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'];
/** How far the clocks of the issuer and the relay may differ, for `exp` and `nbf`. */
const CLOCK_TOLERANCE_S = 30;
const ISSUER_TIMEOUT_MS = 5000;

/** A token the relay accepts: who it runs as and what it may do. */
export interface AcceptedToken {
  principal: string;
  scopes: string[];
  /** `exp`, in seconds since the epoch. */
  expiresAt: number;
}

/** Accepted, or refused with a sentence for `error_description` (no quotes or backslashes). */
export type TokenOutcome = { ok: true; token: AcceptedToken } | { ok: false; reason: string };

/** A compact JWS: three base64url parts; anything else is not a token of an issuer. */
export function looksLikeJwt(bearer: string): boolean {
  return /^[\w-]+\.[\w-]+\.[\w-]*$/.test(bearer);
}

/** The scopes a token grants: `scope` (space-separated, RFC 9068) or `scp` (a list or a string). */
function scopesOf(payload: JWTPayload): string[] {
  const granted = payload.scope ?? payload.scp;
  if (typeof granted === 'string') return granted.split(' ').filter(Boolean);
  return Array.isArray(granted) ? granted.filter((s): s is string => typeof s === 'string') : [];
}

function refusalOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'the token has expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return 'the token is not valid yet';
    if (error.claim === 'aud') return 'the token was issued for another resource';
    if (error.claim === 'exp') return 'the token has no expiry';
    return `the token's ${error.claim} claim is not valid`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return `the token is not signed with an accepted algorithm (${TOKEN_ALGORITHMS.join(', ')})`;
  if (error instanceof errors.JWKSNoMatchingKey) return 'no signing key of the issuer matches the token';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'the token signature does not verify';
  return 'the token is not a valid JWT';
}

/**
 * Validates JWT access tokens (RFC 9068) for this relay as an OAuth resource server: the
 * issuer is one of `RELAY_OAUTH_ISSUER`, the signature verifies against that issuer's keys
 * with an allowed algorithm, the audience is this relay's resource URL (RFC 8707), `exp` is
 * present and not past and `nbf` not ahead (within {@link CLOCK_TOLERANCE_S}), and the
 * principal claim holds a principal as API keys name them.
 */
export class AccessTokens {
  readonly #issuers = new Map<string, IssuerKeys>();

  constructor(
    private readonly settings: OAuthSettings,
    /** This relay's resource URL, known once it is bound. */
    private readonly audience: () => string,
    /** Why a value cannot be a principal, or `undefined` when it can (the API keys' rule). */
    private readonly principalProblem: (principal: string) => string | undefined,
  ) {
    for (const issuer of settings.issuers) {
      this.#issuers.set(issuer, new IssuerKeys(issuer, { jwksUrl: settings.jwksUrl, cooldownMs: settings.jwksCooldownMs, timeoutMs: ISSUER_TIMEOUT_MS }));
    }
  }

  /** Accepts or refuses `bearer`; rejects with {@link IssuerUnavailable} when its issuer's keys cannot be had. */
  async verify(bearer: string): Promise<TokenOutcome> {
    let issuer: unknown;
    try {
      issuer = decodeJwt(bearer).iss;
    } catch {
      return { ok: false, reason: 'the token is not a valid JWT' };
    }
    const keys = typeof issuer === 'string' ? this.#issuers.get(issuer) : undefined;
    if (!keys) return { ok: false, reason: 'the token is not from an issuer this relay trusts' };
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(bearer, keys.getKey, {
        issuer: keys.issuer,
        audience: this.audience(),
        algorithms: TOKEN_ALGORITHMS,
        clockTolerance: CLOCK_TOLERANCE_S,
        requiredClaims: ['exp'],
      }));
    } catch (error) {
      if (error instanceof IssuerUnavailable) throw error;
      return { ok: false, reason: refusalOf(error) };
    }
    const claim = this.settings.principalClaim;
    const principal = payload[claim];
    if (typeof principal !== 'string' || this.principalProblem(principal) !== undefined) {
      return { ok: false, reason: `the token's ${claim} claim is not a usable principal` };
    }
    return { ok: true, token: { principal, scopes: scopesOf(payload), expiresAt: payload.exp! } };
  }
}
