import { readFileSync } from 'node:fs';
import { secretVariable, type WebhookSourceConfig } from '../config.js';
import { webhookProviders } from '../ingest/providers/index.js';
import { isSampleName, loadSample, type SampleName, sampleNames } from '../ingest/samples.js';

/** What `mcp-event-relay send --help` prints. */
export const SEND_USAGE = `usage: mcp-event-relay send <source> <sample> [--fixed] [--payload FILE] [--url URL] [--secret S]
       mcp-event-relay send --list

Plays a sample webhook delivery at a running relay, signed exactly as the sample's provider
signs it now: the relay's answer to \`stripe trigger\`. It POSTs to <url>/webhooks/<source> and
prints the relay's answer, e.g.
  200 {"received":true,"id":"01JC3Z…","duplicate":false}
then exits 0 on a 2xx answer, 1 on any other answer or when the relay cannot be reached, and
2 on a command line it cannot run.

Every send is a new event: the ids the provider deduplicates on are new (Stripe's and
Zendesk's event id; Shopify's X-Shopify-Webhook-Id, X-Shopify-Event-Id and the fulfillment a
shipment sample ships; GitHub's X-GitHub-Delivery; Standard Webhooks' webhook-id), and every
time in the sample moves by the same amount, so the provider dates it now. Orders, customers
and tickets keep their ids, so the samples still tell one story: order_created, then
order_shipped, links the shipment to the order's customer.

options:
  --fixed          send the sample exactly as shipped, ids and times included: a second
                   send answers "duplicate":true, deduplication at work
  --payload FILE   send FILE's bytes as the body instead of the sample's, signed for the
                   source's provider; the sample still gives the headers (Shopify's topic,
                   GitHub's event). FILE is never rewritten: its ids and times are yours,
                   so sending it again is a duplicate where the provider deduplicates on
                   the body (Stripe, Zendesk events, Shopify shipments). The delivery-id
                   headers are new on every send unless --fixed
  --url URL        the relay (default: HOST and PORT, http://127.0.0.1:8787)
  --secret S       the source's secret (default: the source's variable, e.g.
                   STRIPE_WEBHOOK_SECRET, or ACME_WEBHOOK_SECRET for a source acme)
  --list           the samples by provider, the type each is stored as, and the sources
                   configured here for that provider
  -h, --help       this text

A sample goes to a source of its own provider: the built-in sources are named after theirs
(stripe, shopify, zendesk, github, standard); RELAY_SOURCES declares others (acme:standard).
Samples: ${sampleNames.join(', ')}.`;

/** `send`'s flags as `parseArgs` gives them. */
export interface SendFlags {
  url?: string;
  secret?: string;
  fixed?: boolean;
  payload?: string;
}

/** What `send` runs with, every argument checked. */
export interface SendSettings {
  url: string;
  source: string;
  sample: SampleName;
  secret: string;
  /** New upstream ids and times (the default), or the sample as shipped (`--fixed`). */
  fresh: boolean;
  payload: Buffer | undefined;
}

/** `send stripe order_shipped` → where `order_shipped` belongs instead. */
function wrongProvider(sample: SampleName, provider: string, source: WebhookSourceConfig, sources: readonly WebhookSourceConfig[]): string {
  const example = sources.find((s) => s.provider === provider && s.secrets.length > 0)?.name ?? provider;
  return `${sample} is a ${provider} sample, and ${source.name} is a ${source.provider} source; send it to a ${provider} source, e.g. \`send ${example} ${sample}\``;
}

function readPayload(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new Error(`cannot read --payload ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/**
 * Checks `send`'s arguments against the sources configured here (`sources`, from RELAY_SOURCES
 * and the built-ins): a source known here must use the sample's provider; one that is not
 * (a remote relay's own) is taken to. `defaultUrl` is the relay on HOST/PORT. Throws one
 * sentence for an argument it cannot use.
 */
export function sendSettings(flags: SendFlags, positionals: readonly string[], sources: readonly WebhookSourceConfig[], defaultUrl: string): SendSettings {
  const [source, sample] = positionals;
  if (source === undefined || sample === undefined || positionals.length > 2) throw new Error('send takes <source> <sample>');
  if (!isSampleName(sample)) throw new Error(`unknown sample "${sample}"; samples: ${sampleNames.join(', ')}`);
  const { provider } = loadSample(sample);
  const configured = sources.find((s) => s.name === source);
  if (configured !== undefined && configured.provider !== provider) throw new Error(wrongProvider(sample, provider, configured, sources));
  const secret = flags.secret ?? configured?.secrets[0];
  if (!secret) throw new Error(`no secret for "${source}": pass --secret or set ${secretVariable(source)}`);
  return {
    url: flags.url ?? defaultUrl,
    source,
    sample,
    secret,
    fresh: flags.fixed !== true,
    payload: flags.payload === undefined ? undefined : readPayload(flags.payload),
  };
}

/** A sample's provider type and the type the relay stores it as (`<source>.…` when unmapped). */
function storedAs(name: SampleName): { provider: string; sourceType: string; type: string } {
  const sample = loadSample(name);
  const normalized = webhookProviders[sample.provider].normalize('<source>', sample.body, { rawBody: sample.rawBody, headers: sample.headers });
  if (!normalized.ok || !('event' in normalized)) throw new Error(`the ${name} sample does not normalize`);
  return { provider: sample.provider, sourceType: normalized.event.sourceType, type: normalized.event.type };
}

/** What `send --list` prints: the samples under their provider, with the sources here that take them. */
export function formatSampleList(sources: readonly WebhookSourceConfig[]): string {
  const rows = sampleNames.map((name) => ({ name, ...storedAs(name) }));
  const nameWidth = Math.max(...rows.map((r) => r.name.length));
  const typeWidth = Math.max(...rows.map((r) => r.sourceType.length));
  const providers = [...new Set(rows.map((r) => r.provider))];
  const blocks = providers.map((provider) => {
    const names = sources.filter((s) => s.provider === provider).map((s) => s.name);
    const lines = rows.filter((r) => r.provider === provider).map((r) => `  ${r.name.padEnd(nameWidth)}  ${r.sourceType.padEnd(typeWidth)}  → ${r.type}`);
    return [`${provider} (send to: ${names.join(', ')})`, ...lines].join('\n');
  });
  return ['samples by provider: send <source> <sample>', ...blocks].join('\n\n');
}
