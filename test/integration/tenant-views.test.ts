import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/app.js';
import { connectModernAgent, keys, toolOutcome } from '../support/mcp-clients.js';
import { scrape } from '../support/observed-relay.js';
import { startTestRelay } from '../support/relay.js';

const carolKey = 'carol-test-key-0123456789';
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/** The consumer groups a viewer is shown: the `group` labels of `/metrics`, the keys of `/status`'s groups. */
async function groupsSeen(relay: Relay, headers: Record<string, string> = {}): Promise<{ metrics: string[]; status: string[] }> {
  const labels = new Set<string>();
  for (const key of (await scrape(relay, headers)).keys()) {
    const group = /^relay_consumer_group_events\{.*group="([^"]*)"/.exec(key)?.[1];
    if (group !== undefined) labels.add(group);
  }
  const status = (await (await fetch(`${relay.url}/status`, { headers })).json()) as { groups: Record<string, unknown> };
  return { metrics: [...labels].sort(), status: Object.keys(status.groups) };
}

async function claimIn(relay: Relay, key: string, group: string): Promise<void> {
  const agent = await connectModernAgent(relay, { key });
  try {
    expect(toolOutcome(await agent.client.callTool({ name: 'check_pending_events', arguments: { group } })).isError).toBe(false);
  } finally {
    await agent.close();
  }
}

describe('/metrics and /status with several tenants', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await startTestRelay({
      RELAY_API_KEYS: `${keys.alice}:alice,${keys.bob}:bob,${carolKey}:carol`,
      RELAY_ADMIN_PRINCIPALS: 'carol',
      RELAY_REACTIONS: 'on',
    });
    await claimIn(relay, keys.alice, 'alice/support');
    await claimIn(relay, keys.bob, 'bob/billing');
  });
  afterAll(() => relay.close());

  it("shows a principal its own groups only, not another tenant's nor the relay's", async () => {
    expect(await groupsSeen(relay, bearer(keys.alice))).toEqual({ metrics: ['alice', 'alice/support'], status: ['alice', 'alice/support'] });
    expect(await groupsSeen(relay, bearer(keys.bob))).toEqual({ metrics: ['bob', 'bob/billing'], status: ['bob', 'bob/billing'] });
  });

  it('shows a principal named in RELAY_ADMIN_PRINCIPALS every group', async () => {
    const all = ['alice', 'alice/support', 'bob', 'bob/billing', 'carol', 'relay/reactions'];
    expect(await groupsSeen(relay, bearer(carolKey))).toEqual({ metrics: all, status: all });
  });

  it('still shows every tenant the relay-wide numbers', async () => {
    const m = await scrape(relay, bearer(keys.bob));
    expect(m.has('relay_log_retained_events{}')).toBe(true);
    expect([...m.keys()].some((k) => k.startsWith('relay_listeners{'))).toBe(true);
  });
});

describe('/metrics and /status of an open relay (no keys, loopback only)', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await startTestRelay({ RELAY_REACTIONS: 'on' });
    await claimIn(relay, '', 'local/support');
  });
  afterAll(() => relay.close());

  it('shows every group', async () => {
    const all = ['local', 'local/support', 'relay/reactions'];
    expect(await groupsSeen(relay)).toEqual({ metrics: all, status: all });
  });
});
