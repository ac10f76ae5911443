import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { createWebhookReceiver, type WebhookOccurrence, type WebhookReceiverOptions } from '../../client/index.js';
import { newSecret } from '../support/callback-receiver.js';
import { Inbox } from '../support/mcp-clients.js';
import { occurrence, post, serveOnLoopback, signedWith } from './webhook-harness.js';

describe('createWebhookReceiver', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });

  /** A receiver on loopback; `events` gets each occurrence's eventId as onEvent resolves. */
  const start = async (overrides: Partial<WebhookReceiverOptions> = {}) => {
    const events = new Inbox<string>();
    const receiver = createWebhookReceiver({ secret: newSecret(), onEvent: (o: WebhookOccurrence) => void events.push(o.eventId), ...overrides });
    const served = await serveOnLoopback(receiver.handler);
    closers.push(served.close);
    const send = (body: string, options: Parameters<typeof signedWith>[2] = {}) => post(served.url, body, signedWith(receiver.secret, body, options));
    return { url: served.url, secret: receiver.secret, events, send };
  };

  it('hands a signed occurrence to onEvent and answers 200 once it resolved', async () => {
    let resolveHandler!: () => void;
    const handled = new Promise<void>((resolve) => (resolveHandler = resolve));
    const seen: WebhookOccurrence[] = [];
    const r = await start({
      onEvent: async (o) => {
        seen.push(o);
        await handled;
      },
    });
    let answered = false;
    const answer = r.send(occurrence('01EVENT', { type: 'payment.failed' })).then((a) => ((answered = true), a));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(answered).toBe(false);
    resolveHandler();
    expect(await answer).toMatchObject({ status: 200, json: {} });
    expect(seen).toEqual([{ eventId: '01EVENT', name: 'cx_events', timestamp: expect.any(String), data: { id: '01EVENT', type: 'payment.failed' }, cursor: '01EVENT' }]);
  });

  it('echoes a verification challenge without calling anything', async () => {
    const r = await start();
    const answer = await r.send(JSON.stringify({ type: 'verification', challenge: 'c-123' }));
    expect(answer).toMatchObject({ status: 200, json: { challenge: 'c-123' } });
    expect(r.events.items).toEqual([]);
  });

  it('maps gap to onGap and terminated to onTerminated, 200 to both, and acknowledges envelope types it does not know', async () => {
    const gaps: unknown[] = [];
    const ends: unknown[] = [];
    const r = await start({ onGap: (g) => void gaps.push(g), onTerminated: (e) => void ends.push(e) });
    expect((await r.send(JSON.stringify({ type: 'gap', cursor: '01GAP', reason: 'retention' }))).status).toBe(200);
    const error = { code: -32015, message: 'suspended', data: { reason: 'http_5xx', suspended: true } };
    expect((await r.send(JSON.stringify({ type: 'terminated', error }))).status).toBe(200);
    expect((await r.send(JSON.stringify({ type: 'from.a.later.draft', anything: 1 }))).status).toBe(200);
    expect(gaps).toEqual([{ cursor: '01GAP', reason: 'retention' }]);
    expect(ends).toEqual([error]);
  });

  it('answers a redelivered webhook-id 200 without calling onEvent again, also while the first is still being handled', async () => {
    let calls = 0;
    const r = await start({
      onEvent: async () => {
        calls++;
        await new Promise((resolve) => setTimeout(resolve, 100));
      },
    });
    const body = occurrence('01DUP');
    const answers = await Promise.all([r.send(body, { id: '01DUP' }), r.send(body, { id: '01DUP' })]);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    expect((await r.send(body, { id: '01DUP' })).status).toBe(200);
    expect(calls).toBe(1);
  });

  it('forgets the oldest ids beyond dedupWindow', async () => {
    const r = await start({ dedupWindow: 2 });
    for (const id of ['A', 'B', 'C', 'A']) expect((await r.send(occurrence(id), { id })).status).toBe(200);
    expect(r.events.items).toEqual(['A', 'B', 'C', 'A']);
  });

  it('answers 500 when onEvent throws, so the relay retries; the retry is handled', async () => {
    let calls = 0;
    const r = await start({
      onEvent: (o) => {
        if (++calls === 1) throw new Error('database down');
        r.events.push(o.eventId);
      },
    });
    const body = occurrence('01RETRY');
    expect(await r.send(body, { id: '01RETRY' })).toMatchObject({ status: 500, json: { error: 'handler_failed' } });
    expect((await r.send(body, { id: '01RETRY' })).status).toBe(200);
    expect(r.events.items).toEqual(['01RETRY']);
  });

  it('runs onEvent for one delivery at a time', async () => {
    let running = 0;
    let most = 0;
    const order: string[] = [];
    const r = await start({
      onEvent: async (o) => {
        most = Math.max(most, ++running);
        await new Promise((resolve) => setTimeout(resolve, 20));
        order.push(o.eventId);
        running--;
      },
    });
    const ids = ['E1', 'E2', 'E3', 'E4'];
    await Promise.all(ids.map((id) => r.send(occurrence(id), { id })));
    expect(most).toBe(1);
    expect([...order].sort()).toEqual(ids);
  });

  describe('refuses what the relay did not send', () => {
    it('another method: 405 with Allow', async () => {
      const r = await start();
      for (const method of ['GET', 'PUT']) {
        const answer = await post(r.url, '{}', {}, method);
        expect(answer).toMatchObject({ status: 405, json: { error: 'method_not_allowed' } });
        expect(answer.headers.get('allow')).toBe('POST');
      }
    });

    it('a body over 256 KiB and the margin: 413, whether its length was declared or it was streamed', async () => {
      const r = await start();
      const body = occurrence('01BIG', { padding: 'x'.repeat(300 * 1024) });
      expect(await r.send(body)).toMatchObject({ status: 413, json: { error: 'payload_too_large' } });
      const chunks = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < 30; i++) controller.enqueue(new Uint8Array(16 * 1024).fill(120));
          controller.close();
        },
      });
      expect(await post(r.url, chunks, signedWith(r.secret, 'unused'))).toMatchObject({ status: 413, json: { error: 'payload_too_large' } });
      // A body just under the bound is taken.
      expect((await r.send(occurrence('01FITS', { padding: 'x'.repeat(250 * 1024) }))).status).toBe(200);
      expect(r.events.items).toEqual(['01FITS']);
    });

    it('missing signature headers: 400', async () => {
      const r = await start();
      const body = occurrence('01NOSIG');
      const headers = signedWith(r.secret, body);
      for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
        const { [name]: _dropped, ...rest } = headers;
        expect(await post(r.url, body, rest)).toMatchObject({ status: 400, json: { error: 'missing_signature_headers' } });
      }
    });

    it('a timestamp outside the tolerance, either way, or no number at all: 401 with the reason', async () => {
      const r = await start({ toleranceSeconds: 60 });
      const body = occurrence('01OLD');
      expect(await r.send(body, { at: new Date(Date.now() - 61_000) })).toMatchObject({ status: 401, json: { error: 'timestamp_out_of_tolerance' } });
      expect(await r.send(body, { at: new Date(Date.now() + 61_000) })).toMatchObject({ status: 401, json: { error: 'timestamp_out_of_tolerance' } });
      expect(await post(r.url, body, { ...signedWith(r.secret, body), 'webhook-timestamp': 'soon' })).toMatchObject({ status: 401, json: { error: 'invalid_timestamp' } });
      expect((await r.send(body, { at: new Date(Date.now() - 50_000) })).status).toBe(200);
      expect(r.events.items).toEqual(['01OLD']);
    });

    it('a signature by another secret, over other bytes, or of another version: 401', async () => {
      const r = await start();
      const body = occurrence('01FORGED');
      expect(await r.send(body, { secrets: [newSecret()] })).toMatchObject({ status: 401, json: { error: 'invalid_signature' } });
      expect(await post(r.url, body.replace('01FORGED', '01FORGEE'), signedWith(r.secret, body))).toMatchObject({ status: 401, json: { error: 'invalid_signature' } });
      const asV2 = signedWith(r.secret, body);
      expect(await post(r.url, body, { ...asV2, 'webhook-signature': asV2['webhook-signature']!.replace('v1,', 'v2,') })).toMatchObject({ status: 401 });
      expect(await r.send(body, { secrets: [] })).toMatchObject({ status: 400, json: { error: 'missing_signature_headers' } });
      expect(r.events.items).toEqual([]);
    });

    it('a body that is no JSON, or no envelope: 400', async () => {
      const r = await start();
      expect(await r.send('{"eventId": "01', {})).toMatchObject({ status: 400, json: { error: 'invalid_json' } });
      for (const body of ['[]', '"text"', JSON.stringify({ eventId: '01X', name: 'cx_events' }), JSON.stringify({ type: 'gap', cursor: 5 })]) {
        expect(await r.send(body)).toMatchObject({ status: 400, json: { error: 'invalid_envelope' } });
      }
      expect(r.events.items).toEqual([]);
    });
  });

  it('accepts a delivery signed by any of several secrets (rotation), among other signatures, and the first is the one to register', async () => {
    const [current, previous] = [newSecret(), newSecret()];
    const r = await start({ secret: [current, previous] });
    expect(r.secret).toBe(current);
    const body = occurrence('01ROT');
    expect((await post(r.url, body, signedWith(current, body, { id: 'a', secrets: [previous], extra: ['v1,bm90IGl0', 'v1a,whatever'] }))).status).toBe(200);
    expect((await post(r.url, body, signedWith(current, body, { id: 'b', secrets: [newSecret(), current] }))).status).toBe(200);
    expect(r.events.items).toEqual(['01ROT', '01ROT']);
  });

  it('refuses bad options when created', () => {
    const onEvent = () => undefined;
    expect(() => createWebhookReceiver({ secret: 'not-a-secret', onEvent })).toThrow(/createWebhookReceiver options/);
    expect(() => createWebhookReceiver({ secret: `whsec_${Buffer.alloc(8).toString('base64')}`, onEvent })).toThrow(/24–64 bytes/);
    expect(() => createWebhookReceiver({ secret: [], onEvent })).toThrow(/createWebhookReceiver options/);
    expect(() => createWebhookReceiver({ secret: newSecret() } as never)).toThrow(/onEvent must be a function/);
    expect(() => createWebhookReceiver({ secret: newSecret(), onEvent, toleranceSeconds: 0 })).toThrow(/createWebhookReceiver options/);
  });

  it('works mounted in Express behind a raw or text body parser, and says so when a JSON parser ran first', async () => {
    const events: string[] = [];
    const receiver = createWebhookReceiver({ secret: newSecret(), onEvent: (o) => void events.push(o.eventId) });
    const app = express();
    app.post('/raw', express.raw({ type: '*/*', limit: '1mb' }), receiver.handler);
    app.post('/text', express.text({ type: '*/*', limit: '1mb' }), receiver.handler);
    app.post('/json', express.json(), receiver.handler);
    app.post('/plain', receiver.handler);
    const served = await serveOnLoopback(app);
    closers.push(served.close);
    const base = served.url.replace('/hooks/relay', '');
    for (const path of ['raw', 'text', 'plain']) {
      const body = occurrence(`01${path.toUpperCase()}`);
      expect((await post(`${base}/${path}`, body, signedWith(receiver.secret, body))).status).toBe(200);
    }
    const body = occurrence('01JSON');
    expect(await post(`${base}/json`, body, signedWith(receiver.secret, body))).toMatchObject({ status: 500, json: { error: 'raw_body_unavailable' } });
    const big = occurrence('01BIG', { padding: 'x'.repeat(300 * 1024) });
    expect((await post(`${base}/raw`, big, signedWith(receiver.secret, big))).status).toBe(413);
    expect(events).toEqual(['01RAW', '01TEXT', '01PLAIN']);
  });
});
