import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/app.js';
import { sendSample } from '../../src/ingest/send-sample.js';
import { skipRedis, useRedisServer } from '../support/redis-server.js';
import { startTestRelay, testSecrets } from '../support/relay.js';

describe.skipIf(skipRedis)('a relay on RELAY_STORE=redis://', () => {
  const server = useRedisServer();
  let relays: Relay[] = [];
  beforeAll(async () => {
    relays = [await startTestRelay({ RELAY_STORE: server().url }), await startTestRelay({ RELAY_STORE: server().url })];
  });
  afterAll(async () => {
    await Promise.all(relays.map((relay) => relay.close()));
  });

  it('keeps its log and customer memory in Redis and reports the store on /healthz', async () => {
    const [a] = relays;
    expect([a!.log.kind, a!.memory.kind]).toEqual(['redis', 'redis']);
    expect(await (await fetch(`${a!.url}/healthz`)).json()).toMatchObject({ status: 'ok', store: 'redis' });
  });

  it('commits a webhook received by one instance once, and answers its retry on the other as a duplicate', async () => {
    const [a, b] = relays;
    const send = (relay: Relay) => sendSample({ url: relay.url, source: 'stripe', sample: 'payment_failed', secret: testSecrets.stripe, nowMs: Date.now() });
    const first = await send(a!);
    const { id } = first.body as { id: string };
    expect(first).toMatchObject({ status: 200, body: { duplicate: false } });
    expect(await send(b!)).toMatchObject({ status: 200, body: { id, duplicate: true } });
    expect(await b!.log.head()).toBe(id);
  });
});
