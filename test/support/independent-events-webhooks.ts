/**
 * Webhook delivery (`events/subscribe`, `events/unsubscribe`) for the independent Events
 * server, written from the draft alone: subscriptions keyed by (principal, url, name,
 * arguments) with an id derived from the key; the endpoint proves intent by echoing a signed
 * challenge before anything is delivered; then every matching event is POSTed in log order,
 * one at a time, signed per Standard Webhooks (HMAC-SHA256 with node:crypto) with
 * `X-MCP-Subscription-Id`, and retried until it is taken or the subscription ends; events the
 * log dropped first are announced as a `gap`. A refresh re-grants the TTL and replaces the
 * secret.
 *
 * Callbacks reach loopback IP literals only — this server exists for tests — over https, or
 * plain http when the server allows it.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { ActivityArguments, ActivityLog } from './independent-events-log.js';
import { CODES, count, isRecord, RpcError } from './independent-events-rpc.js';

/** A subscribe or unsubscribe whose name, arguments and cursor the server has checked. */
export interface WebhookRequest {
  name: string;
  args: ActivityArguments;
  cursor: string | null;
  maxAgeMs: number | undefined;
}

const TTL_MS = { default: 3_600_000, min: 60_000, max: 86_400_000 };
/** Waits before the 2nd, 3rd, 4th and every later attempt of one delivery. */
const RETRY_MS = [500, 2000, 5000, 30_000];
const ATTEMPT_TIMEOUT_MS = 5000;
const MAX_ANSWER_BYTES = 64 * 1024;

/** One POST's `webhook-id` and raw body. */
type Envelope = { webhookId: string; body: string };

/** An answer's status and body, or why there was none: the draft's `lastError` categories. */
type Answer = { status: number; body: string } | { failure: 'connection_refused' | 'timeout' | 'tls_error' };

const invalid = (message: string) => new RpcError(CODES.invalidParams, message);
const iso = (ms: number) => new Date(ms).toISOString();

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[(.*)\]$/, '$1');
  return (isIP(host) === 4 && host.startsWith('127.')) || host === '::1';
}

/** `delivery.url`: https, or plain http to loopback when `plainHttp`; and a loopback IP literal, so nothing else is ever reached. */
function callbackUrl(value: unknown, plainHttp: boolean): URL {
  if (typeof value !== 'string' || !URL.canParse(value)) throw invalid('delivery.url must be an absolute URL');
  const url = new URL(value);
  if (url.username !== '' || url.password !== '') throw invalid('delivery.url must not carry credentials');
  const loopback = isLoopback(url.hostname);
  if (url.protocol !== 'https:' && !(plainHttp && url.protocol === 'http:' && loopback)) throw invalid('delivery.url must be https');
  if (!loopback) throw invalid('delivery.url must be a loopback IP address: this test server delivers nowhere else');
  return url;
}

/** The HMAC key of a `whsec_` secret: base64 of 24–64 bytes, or -32602. */
function signingKey(secret: unknown): Buffer {
  const text = typeof secret === 'string' && secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : undefined;
  if (text === undefined || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(text)) throw invalid('delivery.secret must be whsec_ followed by base64');
  const key = Buffer.from(text, 'base64');
  if (key.length < 24 || key.length > 64) throw invalid(`delivery.secret must decode to 24–64 bytes, not ${key.length}`);
  return key;
}

/** The headers of one attempt: a fresh timestamp, one `v1,` signature per key. */
function signedHeaders(keys: Buffer[], webhookId: string, subscriptionId: string, body: string): Record<string, string> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signatures = keys.map((key) => `v1,${createHmac('sha256', key).update(`${webhookId}.${timestamp}.${body}`).digest('base64')}`);
  return { 'content-type': 'application/json', 'webhook-id': webhookId, 'webhook-timestamp': timestamp, 'webhook-signature': signatures.join(' '), 'x-mcp-subscription-id': subscriptionId };
}

/** One POST (node:http follows no redirects), bounded in time and in what it reads back. */
function post(url: URL, headers: Record<string, string>, body: string): Promise<Answer> {
  return new Promise((resolve) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, timeout: ATTEMPT_TIMEOUT_MS }, (res) => {
      let read = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (read = (read + chunk).slice(0, MAX_ANSWER_BYTES)));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: read }));
      res.on('error', () => resolve({ failure: 'connection_refused' }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ failure: error.message === 'timeout' ? 'timeout' : /TLS|CERT|SSL/.test(error.code ?? '') ? 'tls_error' : 'connection_refused' }),
    );
    req.end(body);
  });
}

const accepted = (answer: Answer) => !('failure' in answer) && answer.status >= 200 && answer.status < 300;
const category = (answer: Answer) => ('failure' in answer ? answer.failure : answer.status >= 500 ? 'http_5xx' : 'http_4xx');

/** A control envelope: `webhook-id` `msg_<type>_<random>`, a body with a top-level `type`. */
function control(type: string, fields: Record<string, unknown>): Envelope {
  return { webhookId: `msg_${type}_${randomBytes(12).toString('hex')}`, body: JSON.stringify({ type, ...fields }) };
}

/** Why the endpoint did not prove intent (a `lastError` category), or `undefined` when it echoed the challenge. */
async function challenge(url: URL, subscriptionId: string, key: Buffer): Promise<string | undefined> {
  const nonce = randomBytes(24).toString('base64url');
  const { webhookId, body } = control('verification', { challenge: nonce });
  const answer = await post(url, signedHeaders([key], webhookId, subscriptionId, body), body);
  if ('failure' in answer || !accepted(answer)) return category(answer);
  let echoed: unknown;
  try {
    echoed = (JSON.parse(answer.body) as { challenge?: unknown }).challenge;
  } catch {
    return 'challenge_failed';
  }
  const same = typeof echoed === 'string' && Buffer.byteLength(echoed) === Buffer.byteLength(nonce) && timingSafeEqual(Buffer.from(echoed), Buffer.from(nonce));
  return same ? undefined : 'challenge_failed';
}

/** One subscription's delivery: from its watermark, one event at a time, in log order. */
class Subscription {
  #lastDeliveryAt: string | null = null;
  #lastError: string | null = null;
  #running = false;
  #again = false;
  #stopped = false;
  #wake: (() => void) | undefined;
  #expiry: NodeJS.Timeout | undefined;
  #unlisten: () => void = () => undefined;

  constructor(
    readonly id: string,
    private readonly url: URL,
    private readonly args: ActivityArguments,
    private key: Buffer,
    /** The watermark: every matching event before it was delivered. */
    public position: string,
    private readonly log: ActivityLog,
    /** Called when the grant runs out. */
    private readonly onExpiry: () => void,
  ) {}

  start(expiresAt: number): void {
    this.#unlisten = this.log.onPublish(() => void this.#pump());
    this.refresh(this.key, expiresAt);
    void this.#pump();
  }

  /** A new secret signs from now on (it replaces the old one), and the grant runs to `expiresAt`. */
  refresh(key: Buffer, expiresAt: number): void {
    this.key = key;
    clearTimeout(this.#expiry);
    this.#expiry = setTimeout(this.onExpiry, expiresAt - Date.now());
    this.#expiry.unref();
  }

  status(): Record<string, unknown> {
    return { active: !this.#stopped, lastDeliveryAt: this.#lastDeliveryAt, lastError: this.#lastError };
  }

  stop(): void {
    this.#stopped = true;
    this.#unlisten();
    clearTimeout(this.#expiry);
    this.#wake?.();
  }

  /** Sends what the log holds after the watermark; a publish meanwhile makes it look again. Events the log no longer holds are a `gap`. */
  async #pump(): Promise<void> {
    if (this.#running) return void (this.#again = true);
    this.#running = true;
    try {
      do {
        this.#again = false;
        const batch = this.log.stream(this.position, this.args);
        if (batch.truncated) {
          this.position = batch.resumedAt;
          await this.#send(control('gap', { cursor: batch.resumedAt }));
        }
        for (const event of batch.events) {
          if (!(await this.#send({ webhookId: event.eventId, body: JSON.stringify(event) }))) return;
          this.position = event.cursor;
        }
        if (!this.#stopped) this.position = batch.cursor;
      } while (this.#again && !this.#stopped);
    } finally {
      this.#running = false;
    }
  }

  /** POSTs until a 2xx (`true`), each attempt signed afresh, or until the subscription stops (`false`). */
  async #send({ webhookId, body }: Envelope): Promise<boolean> {
    for (let attempt = 0; !this.#stopped; attempt++) {
      const answer = await post(this.url, signedHeaders([this.key], webhookId, this.id, body), body);
      if (accepted(answer)) {
        this.#lastDeliveryAt = iso(Date.now());
        this.#lastError = null;
        return true;
      }
      this.#lastError = category(answer);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)]);
        this.#wake = () => (clearTimeout(timer), resolve());
      });
    }
    return false;
  }
}

/** The webhook subscriptions of one server, by key. */
export class Webhooks {
  readonly #byKey = new Map<string, Subscription>();

  constructor(
    private readonly log: ActivityLog,
    /** Plain http callbacks to loopback are accepted (tests); otherwise https only. */
    private readonly plainHttp: boolean,
  ) {}

  /** Creates the subscription once its endpoint echoed a challenge, or refreshes the one with this key. */
  async subscribe(principal: string, request: WebhookRequest, params: Record<string, unknown>): Promise<Record<string, unknown>> {
    const delivery = params.delivery;
    if (!isRecord(delivery) || delivery.mode !== 'webhook') throw invalid('delivery must be { mode: "webhook", url, secret }');
    const url = callbackUrl(delivery.url, this.plainHttp);
    const key = signingKey(delivery.secret);
    // No expiry (`ttlMs: null`) is never granted: it would have to survive a restart, and nothing here does.
    const ttlMs = params.ttlMs === null ? undefined : count(params.ttlMs, 'ttlMs', 0);
    const expiresAt = Date.now() + Math.min(TTL_MS.max, Math.max(TTL_MS.min, ttlMs ?? TTL_MS.default));
    const subscriptionKey = this.#key(principal, url.href, request);
    const id = `sub_${createHash('sha256').update(subscriptionKey).digest('hex').slice(0, 24)}`;
    const existing = this.#byKey.get(subscriptionKey);
    if (existing) {
      const deliveryStatus = existing.status();
      existing.refresh(key, expiresAt);
      return { id, refreshBefore: iso(expiresAt), cursor: existing.position, truncated: false, deliveryStatus };
    }
    const reason = await challenge(url, id, key);
    if (reason !== undefined) throw new RpcError(CODES.callbackEndpoint, `the callback endpoint failed verification: ${reason}`, { reason });
    let start = { position: this.log.headCursor(), truncated: false };
    if (request.cursor !== null) {
      const scan = this.log.stream(request.cursor, request.args, request.maxAgeMs);
      start = { position: scan.truncated ? scan.resumedAt : request.cursor, truncated: scan.truncated };
    }
    this.#end(subscriptionKey);
    const subscription = new Subscription(id, url, request.args, key, start.position, this.log, () => this.#end(subscriptionKey));
    this.#byKey.set(subscriptionKey, subscription);
    subscription.start(expiresAt);
    return { id, refreshBefore: iso(expiresAt), cursor: start.position, truncated: start.truncated };
  }

  /** Ends the subscription with this key at once; -32011 when there is none. */
  unsubscribe(principal: string, request: WebhookRequest, params: Record<string, unknown>): Record<string, unknown> {
    const url = isRecord(params.delivery) ? params.delivery.url : undefined;
    if (typeof url !== 'string') throw invalid('delivery.url must be a string');
    const href = URL.canParse(url) ? new URL(url).href : url;
    if (!this.#end(this.#key(principal, href, request))) throw new RpcError(CODES.notFound, 'no webhook subscription with this key', { kind: 'subscription' });
    return {};
  }

  close(): void {
    for (const subscription of this.#byKey.values()) subscription.stop();
    this.#byKey.clear();
  }

  /** The subscription key, arguments in canonical JSON (`kinds` is their only member). */
  #key(principal: string, href: string, request: WebhookRequest): string {
    return JSON.stringify([principal, href, request.name, request.args.kinds ?? null]);
  }

  #end(key: string): boolean {
    this.#byKey.get(key)?.stop();
    return this.#byKey.delete(key);
  }
}
