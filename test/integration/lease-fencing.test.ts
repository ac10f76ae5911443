import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/app.js';
import { connectLegacyAgent, connectModernAgent, eventually, ingest, startMcpRelay, toolOutcome } from '../support/mcp-clients.js';

type Caller = Awaited<ReturnType<typeof connectLegacyAgent>> | Awaited<ReturnType<typeof connectModernAgent>>;
type Claimed = { id: string; deliveryCount: number };

const GROUP = 'alice/workers';

function call(agent: Caller, name: string, args: Record<string, unknown>) {
  return agent.client.callTool({ name, arguments: { group: GROUP, ...args } }).then(toolOutcome);
}

async function claim(agent: Caller, args: Record<string, unknown> = {}): Promise<Claimed[]> {
  const outcome = await call(agent, 'check_pending_events', args);
  expect(outcome.isError).toBe(false);
  return (outcome.body.events as Claimed[]).map(({ id, deliveryCount }) => ({ id, deliveryCount }));
}

/** Claims as `agent` until the events whose leases ran out come back to it. */
function reclaim(agent: Caller, what: string): Promise<Claimed[]> {
  return eventually(async () => {
    const events = await claim(agent, { leaseMs: 60_000 });
    return events.length > 0 ? events : undefined;
  }, what);
}

describe('lease fencing in ack_event (two agents of one group, both eras)', () => {
  let relay: Relay;
  let a: Caller;
  let b: Caller;
  beforeEach(async () => {
    relay = await startMcpRelay();
    a = await connectLegacyAgent(relay);
    b = await connectModernAgent(relay);
  });
  afterEach(async () => {
    await Promise.all([a.close(), b.close()]);
    await relay.close();
  });

  it("refuses the late ack of an agent whose lease ended and was claimed again, and takes the new holder's", async () => {
    const id = await ingest(relay);
    expect(await claim(a, { leaseMs: 1_000 })).toEqual([{ id, deliveryCount: 1 }]);
    expect(await reclaim(b, "the event coming back after A's 1 s lease")).toEqual([{ id, deliveryCount: 2 }]);

    const late = await call(a, 'ack_event', { eventId: id, deliveryCount: 1 });
    expect(late).toEqual({
      isError: true,
      body: {
        error: 'lease_lost',
        message: `cannot acknowledge ${id}: it was re-delivered (delivery 2) after your lease (delivery 1) ended; the new holder acknowledges it; nothing was changed`,
      },
    });
    expect(await relay.log.pending(GROUP)).toMatchObject({ pending: 1, leased: 1 });

    expect(await call(b, 'ack_event', { eventId: id, deliveryCount: 2 })).toEqual({ isError: false, body: { acknowledged: true, count: 1 } });
    expect(await relay.log.pending(GROUP)).toEqual({ pending: 0, leased: 0, deadLettered: 0 });
  });

  it('fences each of several deliveries, refusing all of them when one lease was lost', async () => {
    const first = await ingest(relay);
    const second = await ingest(relay);
    await claim(a, { leaseMs: 1_000, limit: 1 });
    const held = await claim(a, { leaseMs: 60_000 });
    expect(held).toEqual([{ id: second, deliveryCount: 1 }]);
    expect(await reclaim(b, "the first event coming back after A's 1 s lease")).toEqual([{ id: first, deliveryCount: 2 }]);

    const deliveries = [first, second].map((eventId) => ({ eventId, deliveryCount: 1 }));
    const refused = await call(a, 'ack_event', { deliveries });
    expect(refused.isError).toBe(true);
    expect(refused.body.error).toBe('lease_lost');
    expect(await relay.log.pending(GROUP)).toMatchObject({ pending: 2, leased: 2 });

    expect((await call(a, 'ack_event', { deliveries: [{ eventId: second, deliveryCount: 1 }] })).body).toEqual({ acknowledged: true, count: 1 });
    expect((await call(b, 'ack_event', { deliveries: [{ eventId: first, deliveryCount: 2 }] })).body).toEqual({ acknowledged: true, count: 1 });
    expect(await relay.log.pending(GROUP)).toEqual({ pending: 0, leased: 0, deadLettered: 0 });
  });

  it('refuses a deliveryCount without its eventId, and tells the model to pass the count it was given', async () => {
    const outcome = await call(a, 'ack_event', { deliveryCount: 1 });
    expect(outcome).toMatchObject({ isError: true, body: { error: 'invalid_argument' } });
    const { tools } = await a.client.listTools();
    for (const name of ['check_pending_events', 'ack_event']) expect(tools.find((t) => t.name === name)?.description).toContain('deliveryCount');
  });
});
