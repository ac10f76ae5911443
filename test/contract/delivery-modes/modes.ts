import type { DeliveryMode } from '../../../client/index.js';
import { legacyOnlyFetch } from '../../support/client-harness.js';
import { LEGACY_VERSION, MODERN_VERSION } from '../../support/mcp-clients.js';

/**
 * One way of receiving events the contract is run against: the client mode, and the fetch
 * that decides which protocol era the connection speaks.
 */
export interface ModeUnderTest {
  /** As it appears in test names. */
  label: string;
  mode: DeliveryMode;
  /** A fresh fetch per client and the MCP-Protocol-Version headers it sent (null: none). */
  transport(): { fetch: typeof fetch; versions: (string | null)[] };
  /** The era every versioned request must carry. */
  era: typeof MODERN_VERSION | typeof LEGACY_VERSION;
  /** Push modes open a stream the relay rotates (RELAY_STREAM_LIFETIME); the others do not. */
  streams: boolean;
  /** Settings every relay of the mode's scenarios starts with. */
  relayEnv: Record<string, string>;
}

/** Records the protocol version of every request, and passes it on unchanged. */
function recordingFetch(): { fetch: typeof fetch; versions: (string | null)[] } {
  const versions: (string | null)[] = [];
  const recording: typeof fetch = (input, init) => {
    versions.push(new Headers(init?.headers).get('mcp-protocol-version'));
    return fetch(input, init);
  };
  return { fetch: recording, versions };
}

export const pushModern: ModeUnderTest = { label: 'push (2026-07-28)', mode: 'push', transport: recordingFetch, era: MODERN_VERSION, streams: true, relayEnv: {} };
export const pushLegacy: ModeUnderTest = {
  label: 'push (2025-11-25)',
  mode: 'push',
  transport: () => legacyOnlyFetch(),
  era: LEGACY_VERSION,
  streams: true,
  relayEnv: {},
};
export const poll: ModeUnderTest = { label: 'events/poll', mode: 'poll', transport: recordingFetch, era: MODERN_VERSION, streams: false, relayEnv: {} };
export const tools: ModeUnderTest = {
  label: 'tools (check_pending_events + ack_event)',
  mode: 'tools',
  transport: recordingFetch,
  era: MODERN_VERSION,
  streams: false,
  relayEnv: {},
};
/**
 * The relay calls a loopback callback back (which only `RELAY_WEBHOOK_ALLOW=loopback`
 * permits), retrying a lost delivery within a second or two rather than minutes.
 */
export const webhook: ModeUnderTest = {
  label: 'webhook (events/subscribe, a loopback callback)',
  mode: 'webhook',
  transport: recordingFetch,
  era: MODERN_VERSION,
  streams: false,
  relayEnv: { RELAY_WEBHOOK_ALLOW: 'loopback', RELAY_WEBHOOK_RETRY: '50ms,100ms,200ms,400ms,800ms,1s' },
};
