import type { NewEvent } from '../events/event.js';
import type { Rejection } from './rejection.js';

export const providerKinds = ['stripe', 'shopify', 'zendesk', 'github', 'standard', 'mcp-events'] as const;
export type ProviderKind = (typeof providerKinds)[number];

/** One delivery as it came off the wire. */
export interface WebhookRequest {
  /** The exact bytes received: signatures are over these, so never a re-encoded string. */
  rawBody: Buffer;
  /** Header values by lower-cased name. */
  headers: Readonly<Record<string, string | undefined>>;
}

export interface VerifyOptions {
  /**
   * Secrets to try, current first, then previous ones still inside a rotation window.
   * Surrounding whitespace is ignored; blank entries never match. An empty list rejects all.
   */
  secrets: readonly string[];
  /** The receiver's clock (ms since the epoch), injected so tests and replays are exact. */
  nowMs: number;
  /** Signed timestamps further than this from `nowMs`, past or future, are refused. */
  toleranceS: number;
}

export type Verification = { ok: true } | Rejection;

/**
 * A verified message that is no event: a handshake the provider answers itself (an endpoint
 * verification's challenge). The route answers 200 with `reply` as the JSON body and stores nothing.
 */
export interface Reply {
  ok: true;
  reply: Record<string, unknown>;
}

export type Normalized = { ok: true; event: NewEvent } | Reply | Rejection;

/**
 * A webhook sender's scheme: how its deliveries are authenticated and how they map onto
 * the event catalogue. Implementations are pure: no I/O, no clock reads, and they never
 * throw on hostile input (any header value, any body) — every failure is a {@link Rejection}.
 */
export interface WebhookProvider {
  readonly kind: ProviderKind;
  /** Checks the signature (and signed timestamp, where the scheme has one) over `rawBody`. */
  verify(req: WebhookRequest, options: VerifyOptions): Verification;
  /**
   * Builds the log entry for a verified delivery. `payload` is the parsed, depth-capped
   * body; `source` is the route's source name. Types outside the catalogue are kept as
   * `<source>.<provider type>`; only a missing dedup id or provider type is refused (and,
   * where the scheme has envelopes, a body that is none of them).
   */
  normalize(source: string, payload: unknown, req: WebhookRequest): Normalized;
}
