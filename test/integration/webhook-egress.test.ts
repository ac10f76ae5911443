import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/app.js';
import { CallbackReceiver, newSecret } from '../support/callback-receiver.js';
import { startMcpRelay } from '../support/mcp-clients.js';
import { rpc } from '../support/webhook-rpc.js';

const subscribeUrl = (relay: Relay, url: string) =>
  rpc(relay, 'events/subscribe', { name: 'cx_events', delivery: { mode: 'webhook', url, secret: newSecret() } });

describe('webhook egress: what events/subscribe may call back', () => {
  let strict: Relay;
  let local: Relay;
  let receiver: CallbackReceiver;
  beforeAll(async () => {
    receiver = await new CallbackReceiver().start();
    strict = await startMcpRelay();
    local = await startMcpRelay({ RELAY_WEBHOOK_ALLOW: 'loopback' });
  });
  afterAll(async () => {
    await Promise.all([strict.close(), local.close(), receiver.stop()]);
  });

  it.each([
    ['127.0.0.1'],
    ['127.1'],
    ['0x7f.1'],
    ['2130706433'],
    ['[::ffff:127.0.0.1]'],
    ['localhost'],
    ['localhost.'],
    ['[::1]'],
  ])('refuses the loopback form %s without RELAY_WEBHOOK_ALLOW, and never connects', async (host) => {
    const answer = await subscribeUrl(strict, `http://${host}:${receiver.port}/hooks/relay`);
    expect(answer.error).toMatchObject({ code: -32602, message: expect.stringMatching(/address_refused|scheme/) });
    expect(receiver.hits).toEqual([]);
  });

  it('refuses https to loopback too: the address is refused whatever the scheme', async () => {
    const answer = await subscribeUrl(strict, `https://127.0.0.1:${receiver.port}/hooks/relay`);
    expect(answer.error).toMatchObject({ code: -32602, data: { reason: 'address_refused' } });
    expect(receiver.hits).toEqual([]);
  });

  it("refuses the relay's own address even when loopback is allowed", async () => {
    const answer = await subscribeUrl(local, `${local.url}/webhooks/standard`);
    expect(answer.error).toMatchObject({ code: -32602, data: { reason: 'self' } });
  });

  it('allows a loopback receiver with RELAY_WEBHOOK_ALLOW=loopback, through any of its forms', async () => {
    const answer = await rpc(local, 'events/subscribe', {
      name: 'cx_events',
      delivery: { mode: 'webhook', url: `http://0x7f.1:${receiver.port}/hooks/relay`, secret: receiver.secret },
    });
    expect(answer.error).toBeUndefined();
    expect(receiver.controls('verification')).toHaveLength(1);
  });
});
