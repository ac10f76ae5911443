import { afterEach, describe, expect, it } from 'vitest';
import { type EventClient, memoryCursorStore, type SubscribeOptions, type SubscriptionError } from '../../client/index.js';
import type { Relay } from '../../src/app.js';
import { eventClientFor, recorder } from '../support/client-harness.js';
import { eventually, ingest, startMcpRelay } from '../support/mcp-clients.js';
import { rpc } from '../support/webhook-rpc.js';
import { occurrence, post, serveOnLoopback, signedWith } from './webhook-harness.js';

const FAST = { RELAY_WEBHOOK_ALLOW: 'loopback', RELAY_WEBHOOK_RETRY: '50ms,100ms,200ms' };

/** A delivery's body, for a gate to decide on. */
type Body = Record<string, any>;

/**
 * The fetch the client talks to the relay through: records every JSON-RPC request, and lets
 * `events/subscribe` answers be changed on their way back (a relay granting a shorter lease).
 */
function relayFetch(rewrite?: (result: Record<string, any>) => void) {
  const requests: { method: string; params: Record<string, any> }[] = [];
  const wrapped: typeof fetch = async (input, init) => {
    const message = typeof init?.body === 'string' ? (JSON.parse(init.body) as { method?: string; params?: Record<string, any> }) : undefined;
    if (message?.method) requests.push({ method: message.method, params: message.params ?? {} });
    const res = await fetch(input, init);
    if (message?.method !== 'events/subscribe' || !rewrite) return res;
    if (!res.headers.get('content-type')?.includes('application/json')) throw new Error(`events/subscribe answered ${res.headers.get('content-type')}`);
    const answer = (await res.json()) as { result?: Record<string, any> };
    if (answer.result) rewrite(answer.result);
    return new Response(JSON.stringify(answer), { status: res.status, headers: { 'content-type': 'application/json' } });
  };
  return { fetch: wrapped, subscribes: () => requests.filter((r) => r.method === 'events/subscribe'), requests };
}

describe("subscribe({ mode: 'webhook' })", () => {
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  });

  const relay = async (env: Record<string, string> = {}) => {
    const r = await startMcpRelay({ ...FAST, ...env });
    closers.push(() => r.close());
    return r;
  };
  const clientOf = (r: Relay, options: Parameters<typeof eventClientFor>[2] = {}) => {
    const c = eventClientFor(r, 'push', options);
    closers.push(() => c.close());
    return c;
  };
  /** The app: the client's handler on loopback, behind `gate`, which may answer a delivery itself. */
  const app = async (c: EventClient, gate: (body: Body) => number | undefined = () => undefined) => {
    const served = await serveOnLoopback((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const status = gate(JSON.parse(raw.toString('utf8')) as Body);
        if (status !== undefined) res.writeHead(status).end();
        else void c.webhookHandler(Object.assign(req, { body: raw }), res);
      });
    });
    closers.push(served.close);
    return served.url;
  };
  const webhook = (callbackUrl: string, overrides: Partial<SubscribeOptions> = {}) => recorder({ mode: 'webhook', callbackUrl, ...overrides });
  /** A running webhook subscription to everything, and the secret the client registered for it. */
  const subscribed = async (r: Relay) => {
    const traffic = relayFetch();
    const c = clientOf(r, { fetch: traffic.fetch });
    const url = await app(c);
    const rec = webhook(url);
    const sub = await c.subscribe(rec.options);
    return { url, rec, sub, secret: traffic.subscribes()[0]!.params.delivery.secret as string };
  };

  it('registers a fresh secret, delivers in log order once each, saves cursors, and unsubscribes at the relay', async () => {
    const r = await relay();
    const traffic = relayFetch();
    const c = clientOf(r, { fetch: traffic.fetch });
    const url = await app(c);
    const store = memoryCursorStore();
    const rec = webhook(url, { filter: { types: ['payment.failed', 'order.delayed'] }, cursorStore: store });
    const sub = await c.subscribe(rec.options);
    expect(sub.mode).toBe('webhook');
    expect(sub.webhook).toMatchObject({ id: expect.stringMatching(/^sub_[0-9a-f]{32}$/), refreshBefore: expect.any(String), deliveryStatus: { active: true } });
    const [registered] = traffic.subscribes();
    expect(registered!.params).toMatchObject({ name: 'cx_events', arguments: { types: ['payment.failed', 'order.delayed'] }, delivery: { mode: 'webhook', url }, cursor: null });
    const secret = registered!.params.delivery.secret as string;
    expect(Buffer.from(secret.replace(/^whsec_/, ''), 'base64')).toHaveLength(32);
    // A subscription from now has a resume point at once.
    expect(store.cursor).toBeDefined();
    const sent: string[] = [];
    for (const type of ['payment.failed', 'ticket.created', 'order.delayed', 'payment.failed']) {
      const id = await ingest(r, { type });
      if (type !== 'ticket.created') sent.push(id);
    }
    await rec.until(sent);
    expect(rec.delivered.items).toEqual(sent);
    // Saved once onEvent has resolved.
    await eventually(async () => (store.cursor === sent.at(-1) ? true : undefined), 'the last cursor saved');
    expect(rec.errors.items).toEqual([]);
    await sub.unsubscribe();
    expect(traffic.requests.at(-1)).toMatchObject({ method: 'events/unsubscribe', params: { name: 'cx_events', delivery: { url } } });
    const again = await rpc(r, 'events/unsubscribe', { name: 'cx_events', arguments: { types: ['payment.failed', 'order.delayed'] }, delivery: { url } });
    expect(again.error?.code).toBe(-32011);
  });

  it('starts after the cursor given, and reports a gap when the relay no longer knows it', async () => {
    const r = await relay();
    const c = clientOf(r);
    const url = await app(c);
    const [first, second] = [await ingest(r), await ingest(r)];
    const resumed = webhook(url, { cursor: first });
    await c.subscribe(resumed.options);
    await resumed.until([second]);
    expect(resumed.delivered.items).toEqual([second]);
    const unknown = '01ARZ3NDEKTSV4RRFFQ69G5FAV';
    const replayed = webhook(url, { cursor: unknown, filter: { types: ['payment.failed'] } });
    await c.subscribe(replayed.options);
    await replayed.until([first, second]);
    expect(replayed.delivered.items).toEqual([first, second]);
    expect(replayed.errors.items).toEqual([{ kind: 'truncated', after: unknown, resumedAt: expect.any(String) }]);
  });

  it('subscribes again with the same key before refreshBefore, keeping the subscription and its deliveries', async () => {
    const r = await relay();
    const traffic = relayFetch((result) => (result.refreshBefore = new Date(Date.now() + 1_500).toISOString()));
    const c = clientOf(r, { fetch: traffic.fetch });
    const rec = webhook(await app(c));
    const sub = await c.subscribe(rec.options);
    const first = sub.webhook!;
    const sent = [await ingest(r)];
    await eventually(async () => (traffic.subscribes().length >= 3 ? true : undefined), 'two refreshes');
    sent.push(await ingest(r));
    await rec.until(sent);
    expect(rec.delivered.items).toEqual(sent);
    const secrets = new Set(traffic.subscribes().map((s) => s.params.delivery.secret));
    expect(secrets.size).toBe(1);
    expect(sub.webhook!.id).toBe(first.id);
    expect(sub.webhook!.refreshBefore).not.toBe(first.refreshBefore);
    expect(rec.errors.items).toEqual([]);
  });

  it('refreshes at once when the relay suspends it after sustained failure, and the event in flight arrives once', async () => {
    const r = await relay({ RELAY_WEBHOOK_SUSPEND_AFTER: '1s', RELAY_WEBHOOK_RETRY: Array(10).fill('200ms').join(',') });
    const traffic = relayFetch();
    const c = clientOf(r, { fetch: traffic.fetch });
    let failing = true;
    const url = await app(c, (body) => {
      if (body.type === 'terminated') failing = false;
      return failing && body.type === undefined ? 503 : undefined;
    });
    const rec = webhook(url);
    await c.subscribe(rec.options);
    const id = await ingest(r);
    await rec.until([id]);
    const suspended = rec.errors.items.find((e) => e.kind === 'connection');
    expect(suspended).toMatchObject({ kind: 'connection', delayMs: 0, cause: { code: -32015, data: { suspended: true } } });
    expect(traffic.subscribes().length).toBeGreaterThanOrEqual(2);
    const sentinel = await ingest(r);
    await rec.until([sentinel]);
    expect(rec.delivered.items).toEqual([id, sentinel]);
  });

  it("reports a deliveryStatus that says the relay's deliveries are failing", async () => {
    const r = await relay({ RELAY_WEBHOOK_RETRY: Array(10).fill('300ms').join(',') });
    const c = clientOf(r, { fetch: relayFetch((result) => (result.refreshBefore = new Date(Date.now() + 1_300).toISOString())).fetch });
    let failing = true;
    const url = await app(c, (body) => (failing && body.type === undefined ? 503 : undefined));
    const rec = webhook(url);
    await c.subscribe(rec.options);
    const id = await ingest(r);
    const [report] = await rec.errors.until((items) => items.length > 0, 'a report');
    expect(report).toMatchObject({ kind: 'connection', cause: { code: 'callback_failing', cause: { active: true, lastError: 'http_5xx', failedSince: expect.any(String) } } });
    failing = false;
    await rec.until([id]);
    expect(rec.delivered.items).toEqual([id]);
  });

  it('reports an event the relay gave up as a gap with its reason, and goes on', async () => {
    const r = await relay();
    const c = clientOf(r);
    let refuse: string | undefined;
    const url = await app(c, (body) => (body.eventId !== undefined && body.eventId === refuse ? 413 : undefined));
    const rec = webhook(url);
    await c.subscribe(rec.options);
    const before = await ingest(r);
    await rec.until([before]);
    refuse = await ingest(r, { padding: 10 });
    const after = await ingest(r);
    await rec.until([after]);
    expect(rec.delivered.items).toEqual([before, after]);
    expect(rec.errors.items).toEqual([{ kind: 'truncated', after: before, resumedAt: refuse, reason: 'http_413' } satisfies SubscriptionError]);
  });

  it('ends with fatal on a termination a retry cannot cure', async () => {
    const { url, rec, sub, secret } = await subscribed(await relay());
    const body = JSON.stringify({ type: 'terminated', error: { code: -32012, message: 'access revoked' } });
    expect((await post(url, body, signedWith(secret, body))).status).toBe(200);
    await sub.closed;
    expect(rec.errors.items).toEqual([{ kind: 'fatal', cause: expect.objectContaining({ code: -32012 }) }]);
  });

  it('rejects unsubscribe when the relay cannot be told, and takes no more deliveries for the subscription', async () => {
    const r = await relay();
    const { url, rec, sub, secret } = await subscribed(r);
    await r.close();
    await expect(sub.unsubscribe()).rejects.toThrow();
    const body = occurrence('01LATE');
    expect(await post(url, body, signedWith(secret, body))).toMatchObject({ status: 401, json: { error: 'invalid_signature' } });
    expect(rec.delivered.items).toEqual([]);
  });

  it('rejects subscribe when the relay cannot verify the callback (the handler is not mounted there)', async () => {
    const r = await relay();
    const c = clientOf(r);
    const elsewhere = await serveOnLoopback((_req, res) => void res.writeHead(404).end());
    closers.push(elsewhere.close);
    await expect(c.subscribe(webhook(elsewhere.url).options)).rejects.toMatchObject({ code: -32015, data: { reason: 'http_4xx' } });
  });

  it('refuses bad webhook options before asking the relay', async () => {
    const r = await relay();
    const c = clientOf(r);
    const url = await app(c);
    const invalid = { code: 'invalid_options' };
    await expect(c.subscribe(recorder({ mode: 'webhook' }).options)).rejects.toMatchObject({ ...invalid, message: expect.stringMatching(/needs the callbackUrl/) });
    await expect(c.subscribe(recorder({ callbackUrl: url }).options)).rejects.toMatchObject({ ...invalid, message: expect.stringMatching(/are for mode 'webhook'/) });
    await expect(c.subscribe(recorder({ mode: 'push', secret: 'whsec_x' }).options)).rejects.toMatchObject(invalid);
    await expect(c.subscribe(webhook('ftp://127.0.0.1/hooks').options)).rejects.toMatchObject(invalid);
    await expect(c.subscribe(webhook(url, { secret: 'whsec_not base64' }).options)).rejects.toMatchObject(invalid);
    const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const sub = await c.subscribe(webhook(url, { secret }).options);
    await expect(c.subscribe(webhook(url, { secret, filter: { types: ['order.delayed'] } }).options)).rejects.toMatchObject({
      ...invalid,
      message: expect.stringMatching(/uses this secret/),
    });
    await sub.unsubscribe();
  });
});
