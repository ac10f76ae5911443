import { seekByAge } from '../delivery/age-seek.js';
import type { EventFilter } from '../events/filter.js';
import { LOG_START } from '../events/ulid.js';
import type { EventLog } from '../log/event-log.js';
import { parseCallbackUrl } from './address-policy.js';
import type { CallbackTarget } from './callback-post.js';
import type { CallbackDispatcher } from './dispatcher.js';
import { canonicalJson, secretProblem, subscriptionId } from './subscription-key.js';
import type { SigningSecret, SubscriptionPatch, WebhookSubscription, WebhookSubscriptionStore } from './subscription-store.js';
import { VerificationLimiter, verifyEndpoint } from './verify-endpoint.js';

export interface SubscriptionSettings {
  /** The longest grant, and the grant when the client suggests none. */
  ttlMs: number;
  /** A shorter suggestion is raised to this. */
  minTtlMs: number;
  /** Subscriptions one principal may hold. */
  perPrincipal: number;
  /** A replaced secret keeps signing beside the new one this long. */
  secretGraceMs: number;
  /** Endpoint verifications per callback host per minute. */
  verificationsPerHostPerMinute: number;
  /** Whether the store survives a restart: only then is a no-expiry grant (`ttlMs: null`) given. */
  durable: boolean;
}

/** What `events/subscribe` asks for, its name and arguments already checked. */
export interface SubscribeRequest {
  principal: string;
  name: string;
  arguments: Record<string, unknown>;
  filter: EventFilter;
  url: string;
  secret: string;
  cursor: string | null;
  maxAgeMs?: number;
  /** The client's suggestion; `null` asks for no expiry. */
  ttlMs?: number | null;
}

export interface DeliveryStatus {
  active: boolean;
  lastDeliveryAt: string | null;
  lastError: string | null;
  failedSince?: string;
  throttled?: true;
  retryAfterMs?: number;
}

export interface SubscribeResult {
  id: string;
  refreshBefore: string | null;
  cursor: string;
  truncated: boolean;
  deliveryStatus: DeliveryStatus;
}

/**
 * Why a subscribe or unsubscribe was refused: `invalid` (the URL, the secret, an address the
 * egress policy refuses), `callback` (verification failed; `reason` is its category),
 * `quota`, `verification_rate`, `not_found`.
 */
export class SubscriptionRefusal extends Error {
  constructor(
    readonly kind: 'invalid' | 'callback' | 'quota' | 'verification_rate' | 'not_found',
    message: string,
    readonly data: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** Egress refusals are the URL's fault, not the endpoint's: they are answered as invalid params. */
const URL_REASONS = new Set(['invalid_url', 'scheme', 'address_refused', 'self']);

/**
 * Webhook subscriptions as `events/subscribe` and `events/unsubscribe` see them: keyed by
 * (principal, url, name, canonical arguments), created after the endpoint is verified,
 * refreshed by subscribing again, delivered by the {@link CallbackDispatcher}.
 */
export class CallbackSubscriptions {
  readonly #limiter: VerificationLimiter;

  constructor(
    private readonly store: WebhookSubscriptionStore,
    private readonly log: EventLog,
    private readonly dispatcher: CallbackDispatcher,
    private readonly target: CallbackTarget,
    readonly settings: SubscriptionSettings,
    private readonly now: () => number = Date.now,
  ) {
    this.#limiter = new VerificationLimiter(settings.verificationsPerHostPerMinute, now);
  }

  /**
   * Creates the subscription (quota, verification, start cursor) or refreshes it: a new
   * secret (the old one signs too for `secretGraceMs`), a new grant, and reactivation of a
   * suspended one. A refresh keeps the stored watermark: the relay never loses a live
   * subscription's position, so the request's cursor only places a new one.
   */
  async subscribe(request: SubscribeRequest): Promise<SubscribeResult> {
    const url = parseCallbackUrl(request.url);
    if (typeof url === 'string') throw new SubscriptionRefusal('invalid', `delivery.url: ${url}`);
    const secretIssue = secretProblem(request.secret);
    if (secretIssue !== undefined) throw new SubscriptionRefusal('invalid', secretIssue);
    const args = canonicalJson(request.arguments);
    const id = subscriptionId(request.principal, url.href, request.name, args);
    const now = this.now();
    const expiresAt = this.#grant(request.ttlMs, now);
    const existing = await this.store.get(id);
    let start = { cursor: existing?.cursor ?? LOG_START, truncated: false };
    let verifiedAt = existing?.verifiedAt ?? null;
    if (existing === undefined) {
      if ((await this.store.countFor(request.principal)) >= this.settings.perPrincipal) {
        throw new SubscriptionRefusal('quota', `at most ${this.settings.perPrincipal} webhook subscriptions per principal`, {
          limit: 'webhook_subscriptions',
          max: this.settings.perPrincipal,
        });
      }
      verifiedAt = await this.#verify(request.principal, url, id, request.secret, now);
      start = await this.#start(request);
    }
    const fresh: WebhookSubscription = {
      id,
      principal: request.principal,
      url: url.href,
      name: request.name,
      arguments: args,
      createdAt: now,
      secrets: [{ secret: request.secret, until: null }],
      expiresAt,
      active: true,
      verifiedAt,
      cursor: start.cursor,
      lastDeliveryAt: null,
      lastError: null,
      failedSince: null,
      throttledUntil: null,
      inFlight: null,
      replayFrom: null,
    };
    const refresh: SubscriptionPatch = { expiresAt, active: true, secrets: this.#rotated(existing?.secrets ?? [], request.secret, now) };
    // Reactivating a suspended subscription gives its event in flight a fresh set of attempts.
    if (existing !== undefined && !existing.active) Object.assign(refresh, { inFlight: null, failedSince: null, throttledUntil: null });
    const { subscription, created } = await this.store.upsert(fresh, refresh);
    this.dispatcher.wake();
    const live = this.dispatcher.position(id);
    return {
      id,
      refreshBefore: subscription.expiresAt === null ? null : new Date(subscription.expiresAt).toISOString(),
      cursor: live !== undefined && live > subscription.cursor && subscription.inFlight === null ? live : subscription.cursor,
      truncated: created && start.truncated,
      // Delivery as it stood before this request: a suspended subscription answers `active: false`
      // (with its last error) once, and is delivering again from this refresh on.
      deliveryStatus: deliveryStatus(existing ?? subscription, now),
    };
  }

  /** Ends the subscription with this key at once; `not_found` when there is none. */
  async unsubscribe(principal: string, name: string, args: Record<string, unknown>, url: string): Promise<void> {
    const parsed = parseCallbackUrl(url);
    const id = typeof parsed === 'string' ? undefined : subscriptionId(principal, parsed.href, name, canonicalJson(args));
    if (id === undefined || !(await this.store.remove(id))) {
      throw new SubscriptionRefusal('not_found', 'no webhook subscription with this name, arguments and delivery.url', { kind: 'subscription' });
    }
    this.dispatcher.wake();
  }

  #grant(ttlMs: number | null | undefined, now: number): number | null {
    const { ttlMs: longest, minTtlMs, durable } = this.settings;
    if (ttlMs === null && durable) return null;
    return now + Math.max(minTtlMs, Math.min(ttlMs ?? longest, longest));
  }

  /** The new secret first; the previous ones that are still valid sign beside it until the grace ends. */
  #rotated(previous: readonly SigningSecret[], secret: string, now: number): SigningSecret[] {
    const until = now + this.settings.secretGraceMs;
    const kept = previous
      .filter((s) => s.secret !== secret && (s.until === null || s.until > now))
      .map((s) => ({ secret: s.secret, until: s.until === null ? until : Math.min(s.until, until) }));
    return [{ secret, until: null }, ...kept];
  }

  /** A URL this principal already verified is not challenged again; otherwise verification within the per-host rate. */
  async #verify(principal: string, url: URL, id: string, secret: string, now: number): Promise<number> {
    const known = (await this.store.list()).find((s) => s.principal === principal && s.url === url.href && s.verifiedAt !== null);
    if (known) return known.verifiedAt!;
    if (!this.#limiter.take(url.host)) {
      throw new SubscriptionRefusal('verification_rate', `too many endpoint verifications for ${url.host}; try again in a minute`, {
        limit: 'verifications_per_host_per_minute',
        max: this.#limiter.perMinute,
      });
    }
    const result = await verifyEndpoint(this.target, url, id, [secret], now);
    if (result.ok) return this.now();
    if (URL_REASONS.has(result.reason)) throw new SubscriptionRefusal('invalid', `delivery.url is not allowed: ${result.reason}`, { reason: result.reason });
    throw new SubscriptionRefusal('callback', `the callback endpoint failed verification: ${result.reason}`, { reason: result.reason });
  }

  /** Where a new subscription starts: the head for `cursor: null`, else after the cursor (`maxAgeMs` applied), a gap reported. */
  async #start(request: SubscribeRequest): Promise<{ cursor: string; truncated: boolean }> {
    if (request.cursor === null) return { cursor: (await this.log.head()) ?? LOG_START, truncated: false };
    const seek = await seekByAge(this.log, request.cursor, request.filter, request.maxAgeMs, this.now());
    const page = await this.log.readSerialized({ after: seek.after, filter: request.filter, limit: 1 });
    if (page.truncated) return { cursor: page.resumedAt!, truncated: true };
    return { cursor: seek.after, truncated: seek.skipped };
  }
}

/** What the owner may read of a subscription's delivery: fixed categories, never the endpoint's words. */
export function deliveryStatus(subscription: WebhookSubscription, now: number): DeliveryStatus {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  const status: DeliveryStatus = { active: subscription.active, lastDeliveryAt: iso(subscription.lastDeliveryAt), lastError: subscription.lastError };
  if (subscription.failedSince !== null) status.failedSince = iso(subscription.failedSince)!;
  if (subscription.throttledUntil !== null && subscription.throttledUntil > now) {
    status.throttled = true;
    status.retryAfterMs = subscription.throttledUntil - now;
  }
  return status;
}
