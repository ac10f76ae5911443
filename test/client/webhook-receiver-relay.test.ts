import type { IncomingHttpHeaders } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { createWebhookReceiver, type WebhookOccurrence } from '../../client/index.js';
import type { Relay } from '../../src/app.js';
import { newSecret } from '../support/callback-receiver.js';
import { ingest, Inbox, startMcpRelay } from '../support/mcp-clients.js';
import { rpc } from '../support/webhook-rpc.js';
import { occurrence, post, serveOnLoopback, signedWith } from './webhook-harness.js';

const FAST = { RELAY_WEBHOOK_ALLOW: 'loopback', RELAY_WEBHOOK_RETRY: '50ms,100ms,200ms' };

/** What arrived: the raw bytes and headers, for the `standardwebhooks` library to judge too. */
type Arrival = { raw: Buffer; headers: Record<string, string> };

describe('createWebhookReceiver with the relay', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  const relay = async () => {
    const r = await startMcpRelay(FAST);
    closers.push(() => r.close());
    return r;
  };
  /** A receiver with `secrets`, served on loopback, every request's raw bytes kept. */
  const receiving = async (secrets: string[]) => {
    const events = new Inbox<WebhookOccurrence>();
    const arrivals: Arrival[] = [];
    const receiver = createWebhookReceiver({ secret: secrets, onEvent: (o) => void events.push(o) });
    const served = await serveOnLoopback((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        arrivals.push({ raw, headers: plain(req.headers) });
        void receiver.handler(Object.assign(req, { body: raw }), res);
      });
    });
    closers.push(served.close);
    return { url: served.url, secret: receiver.secret, events, arrivals };
  };
  const subscribe = (r: Relay, url: string, secret: string) => rpc(r, 'events/subscribe', { name: 'cx_events', cursor: null, delivery: { mode: 'webhook', url, secret } });

  it('passes the relay verification and takes its deliveries in log order; the library verifies every one of them', async () => {
    const r = await relay();
    const rec = await receiving([newSecret()]);
    const answer = await subscribe(r, rec.url, rec.secret);
    expect(answer.error).toBeUndefined();
    const ids = [await ingest(r), await ingest(r, { type: 'order.delayed' }), await ingest(r)];
    await rec.events.until((items) => items.length === 3, 'three occurrences');
    expect(rec.events.items.map((o) => [o.eventId, o.cursor, o.data.id])).toEqual(ids.map((id) => [id, id, id]));
    expect(rec.events.items[1]).toMatchObject({ name: 'cx_events', data: { type: 'order.delayed' } });
    expect(rec.arrivals.length).toBeGreaterThanOrEqual(4);
    for (const arrival of rec.arrivals) expect(() => new Webhook(rec.secret).verify(arrival.raw, arrival.headers)).not.toThrow();
  });

  it('keeps taking deliveries across a secret rotation, whichever of the two secrets it knows', async () => {
    const r = await relay();
    const [first, second] = [newSecret(), newSecret()];
    const old = await receiving([first]);
    const both = await receiving([second, first]);
    expect((await subscribe(r, old.url, first)).error).toBeUndefined();
    expect((await subscribe(r, both.url, first)).error).toBeUndefined();
    // Refreshed with the new secret: the old one keeps signing beside it for the grace period.
    expect((await subscribe(r, old.url, second)).error).toBeUndefined();
    expect((await subscribe(r, both.url, second)).error).toBeUndefined();
    const id = await ingest(r);
    await old.events.until((items) => items.some((o) => o.eventId === id), 'the event, old secret');
    await both.events.until((items) => items.some((o) => o.eventId === id), 'the event, both secrets');
    const last = old.arrivals.at(-1)!;
    expect(last.headers['webhook-signature']!.split(' ')).toHaveLength(2);
  });

  it('agrees with the standardwebhooks library on which deliveries are genuine', async () => {
    const secret = newSecret();
    const rec = await receiving([secret]);
    const body = occurrence('01ORACLE');
    const genuine = signedWith(secret, body, { id: 'msg_genuine' });
    const variants: { name: string; body: string; headers: Record<string, string> }[] = [
      { name: 'genuine', body, headers: genuine },
      { name: 'genuine among foreign signatures', body, headers: signedWith(secret, body, { id: 'msg_many', extra: ['v1,AAAA', `v1,${'A'.repeat(43)}=`] }) },
      { name: 'other secret', body, headers: signedWith(newSecret(), body) },
      { name: 'body changed', body: body.replace('ORACLE', 'ORACLF'), headers: genuine },
      { name: 'id changed', body, headers: { ...genuine, 'webhook-id': 'msg_other' } },
      { name: 'timestamp changed', body, headers: { ...genuine, 'webhook-timestamp': String(Number(genuine['webhook-timestamp']) - 1) } },
      { name: 'signature cut short', body, headers: { ...genuine, 'webhook-signature': genuine['webhook-signature']!.slice(0, -4) } },
      { name: 'stale', body, headers: signedWith(secret, body, { at: new Date(Date.now() - 3_600_000) }) },
    ];
    for (const variant of variants) {
      let library: boolean;
      try {
        new Webhook(secret).verify(variant.body, variant.headers);
        library = true;
      } catch {
        library = false;
      }
      const answer = await post(rec.url, variant.body, variant.headers);
      expect({ variant: variant.name, accepted: answer.status === 200 }).toEqual({ variant: variant.name, accepted: library });
    }
    expect(rec.events.items.map((o) => o.eventId)).toEqual(['01ORACLE', '01ORACLE']);
  });
});

function plain(headers: IncomingHttpHeaders): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, String(v)]));
}
