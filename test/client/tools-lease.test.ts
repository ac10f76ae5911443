import { afterEach, describe, expect, it } from 'vitest';
import type { EventClient } from '../../client/index.js';
import type { Relay } from '../../src/app.js';
import { eventClientFor, recorder } from '../support/client-harness.js';
import { eventually, Inbox, ingest, startMcpRelay } from '../support/mcp-clients.js';

/** A fetch that records each `ack_event` call's arguments and the relay's answer text. */
function ackRecordingFetch() {
  const acks = new Inbox<{ args: Record<string, unknown>; reply: string }>();
  const recording: typeof fetch = async (input, init) => {
    const message = typeof init?.body === 'string' ? (JSON.parse(init.body) as { method?: string; params?: { name?: string; arguments?: Record<string, unknown> } }) : undefined;
    const res = await fetch(input, init);
    if (message?.method === 'tools/call' && message.params?.name === 'ack_event') {
      const args = message.params.arguments ?? {};
      void res.clone().text().then((reply) => acks.push({ args, reply }));
    }
    return res;
  };
  return { fetch: recording, acks };
}

describe('subscribe() in tools mode, two members of one group', () => {
  let relay: Relay | undefined;
  const clients: EventClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await relay?.close();
    relay = undefined;
  });

  it('acks with the delivery count it was given, so a member whose lease ran out does not ack for the new holder', async () => {
    const r = (relay = await startMcpRelay());
    let bHolds = () => {};
    const bHoldsIt = new Promise<void>((resolve) => (bHolds = resolve));
    let releaseB = () => {};
    const bMayFinish = new Promise<void>((resolve) => (releaseB = resolve));

    const recorded = ackRecordingFetch();
    const a = recorder({ leaseMs: 1_000 });
    a.options.onEvent = async (event) => {
      a.delivered.push(event.id);
      await bHoldsIt;
    };
    clients.push(eventClientFor(r, 'tools', { fetch: recorded.fetch }));
    await clients[0]!.subscribe(a.options);
    const id = await ingest(r);
    await a.until([id]);

    const b = recorder({ leaseMs: 60_000 });
    b.options.onEvent = async (event) => {
      b.delivered.push(event.id);
      bHolds();
      await bMayFinish;
    };
    clients.push(eventClientFor(r, 'tools'));
    await clients[1]!.subscribe(b.options);
    await b.until([id]);

    const [late] = await recorded.acks.until((acks) => acks.length > 0, "A's ack");
    expect(late!.args).toMatchObject({ eventId: id, deliveryCount: 1 });
    expect(late!.reply).toContain('lease_lost');
    expect(await r.log.pending('alice')).toMatchObject({ pending: 1, leased: 1 });

    releaseB();
    await eventually(async () => ((await r.log.pending('alice')).pending === 0 ? true : undefined), "B's ack");
    expect([a.errors.items, b.errors.items]).toEqual([[], []]);
  });
});
