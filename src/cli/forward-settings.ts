import { randomBytes } from 'node:crypto';
import { standardWebhooksKey } from '../ingest/signature.js';
import { parseCallbackUrl } from '../outbound/address-policy.js';
import { listFlag, mcpEndpoint } from './relay-flags.js';

/** Tries of one event in all. */
export const FORWARD_ATTEMPTS = 4;
/** The bound of the random wait before each retry: 1 s, doubling, at most 4 s. */
export const FORWARD_RETRY = { initialDelayMs: 1_000, factor: 2, maxDelayMs: 4_000 } as const;
/** How long one attempt may take, connecting and reading the answer included. */
export const FORWARD_TIMEOUT_MS = 15_000;

/** `1 s, 2 s, 4 s`: the bounds of the waits before the retries. */
const waits = Array.from({ length: FORWARD_ATTEMPTS - 1 }, (_, retry) => `${Math.min(FORWARD_RETRY.maxDelayMs, FORWARD_RETRY.initialDelayMs * FORWARD_RETRY.factor ** retry) / 1000} s`);

/** What `mcp-event-relay forward --help` prints. */
export const FORWARD_USAGE = `usage: mcp-event-relay forward --to URL [--types a,b] [--sources a,b] [--from CURSOR]
                               [--url URL] [--token T] [--secret whsec_…]

Forwards the relay's events to an endpoint on your machine, signed exactly as the relay's own
webhook delivery signs them: the relay's answer to \`stripe listen --forward-to\`. It subscribes
to the relay by push, so it works against a remote relay that could never reach your
localhost, and POSTs each event to --to, one at a time in log order, as an Events occurrence
{"eventId","name":"cx_events","timestamp","data":<the event>,"cursor"} with the headers
webhook-id (the event id), webhook-timestamp, webhook-signature (Standard Webhooks, v1) and
x-mcp-subscription-id: forward.

options:
  --to URL           the endpoint to POST to, http or https (required)
  --types a,b        only these event types; globs such as payment.* (default: every type)
  --sources a,b      only events from these sources (default: every source)
  --from CURSOR      start after this event id, e.g. the one forward printed when it stopped
                     (default: events from now on)
  --url URL          the relay (default: HOST and PORT, http://127.0.0.1:8787)
  --token T          the relay's API key (default: RELAY_TOKEN)
  --secret whsec_…   the signing secret (default: a new one of 32 random bytes)
  -h, --help         this text

At start it prints (on stderr) the whsec_ secret to configure your receiver with. Then one
line per delivery attempt on stdout: local time, event type, event id, and the answer and its
latency, or why there was none (connection_refused, timeout, dns_error, tls_error,
connection_error), e.g.
  12:00:01  payment.failed  01JC3Z…  → 200 (4 ms)
  12:00:02  order.shipped  01JC40…  → 500 (2 ms), retrying
An attempt not answered 2xx within ${FORWARD_TIMEOUT_MS / 1000} s is retried, ${FORWARD_ATTEMPTS} attempts in all, after random waits
of up to ${waits.join(', ')}; then the event is reported (", gave up after ${FORWARD_ATTEMPTS} attempts") and
skipped. An event is done, and the resume point moves past it, only after a 2xx or that
give-up. Ctrl-C stops after the attempt in flight and prints the --from that resumes
there; a second Ctrl-C exits at once.`;

/** `forward`'s flags as `parseArgs` gives them. */
export interface ForwardFlags {
  to?: string;
  types?: string;
  sources?: string;
  from?: string;
  url?: string;
  token?: string;
  secret?: string;
}

/** What `forward` runs with, every flag checked. */
export interface ForwardSettings {
  /** The relay's MCP endpoint. */
  url: string;
  token: string | undefined;
  to: URL;
  types: string[] | undefined;
  sources: string[] | undefined;
  from: string | undefined;
  secret: string;
}

/** A fresh Standard Webhooks secret: `whsec_` and 32 CSPRNG bytes in base64. */
function newForwardSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/**
 * Flags first, then `RELAY_TOKEN` for the key; `defaultUrl` is the relay on HOST/PORT.
 * Throws one sentence for a flag it cannot use.
 */
export function forwardSettings(flags: ForwardFlags, env: NodeJS.ProcessEnv, defaultUrl: string): ForwardSettings {
  if (flags.to === undefined) throw new Error('--to is required: the URL to forward events to');
  const to = parseCallbackUrl(flags.to);
  if (typeof to === 'string') throw new Error(`--to: ${to}`);
  const secret = flags.secret ?? newForwardSecret();
  if (!secret.startsWith('whsec_') || standardWebhooksKey(secret) === undefined) throw new Error('--secret must be whsec_<base64>');
  if (flags.from === '') throw new Error('--from needs the event id to start after');
  return {
    url: mcpEndpoint(flags.url ?? defaultUrl),
    token: flags.token ?? (env.RELAY_TOKEN || undefined),
    to,
    types: listFlag(flags.types),
    sources: listFlag(flags.sources),
    from: flags.from,
    secret,
  };
}
