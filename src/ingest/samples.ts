import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { field, record, str } from './fields.js';
import type { ProviderKind } from './provider.js';
import { webhookProviders } from './providers/index.js';
import { parseIsoInstant } from './timestamp.js';

/**
 * Realistic deliveries shaped like the providers' documented payloads: one for every type of
 * the catalogue a provider sends, so every built-in reaction can be shown with them (the Shopify
 * orders share order #1001 and its customer; the Zendesk tickets, ticket 35436). `send` plays
 * them at a running relay; the tests reuse them. They live in `samples/webhooks/` at the package
 * root so the installed package ships them. Listed by provider.
 */
export const sampleNames = [
  'payment_failed',
  'payment_succeeded',
  'refund',
  'dispute_opened',
  'order_created',
  'order_shipped',
  'order_fulfilled',
  'order_delayed',
  'order_delivered',
  'order_canceled',
  'ticket_created',
  'ticket_updated',
  'ticket_escalated',
  'ticket_solved',
  'github_issue',
  'standard',
] as const;

export type SampleName = (typeof sampleNames)[number];

/** The schemes samples are shipped for: third-party senders (`mcp-events` deliveries come from a relay's `events/subscribe`). */
export type SampleProvider = Exclude<ProviderKind, 'mcp-events'>;

/** One delivery as a provider would send it, without its signature. */
export interface Sample {
  /** The scheme it is signed with. */
  provider: SampleProvider;
  /** Its non-signature headers (topic, delivery id, …), lower-cased. */
  headers: Record<string, string>;
  body: unknown;
  /** The exact bytes to send and sign. */
  rawBody: Buffer;
}

/** Whether `name` is one of the shipped samples. */
export function isSampleName(name: string): name is SampleName {
  return (sampleNames as readonly string[]).includes(name);
}

function samplesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'samples', 'webhooks'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('samples/webhooks not found above the relay module');
    dir = parent;
  }
  return join(dir, 'samples', 'webhooks');
}

/** A shipped sample, exactly as shipped: the same upstream ids and times on every load. */
export function loadSample(name: SampleName): Sample {
  const file = JSON.parse(readFileSync(join(samplesDir(), `${name}.json`), 'utf8')) as {
    source: SampleProvider;
    headers: Record<string, string>;
    body: unknown;
  };
  return { provider: file.source, headers: file.headers, body: file.body, rawBody: Buffer.from(JSON.stringify(file.body)) };
}

/** Delivery-id headers, each with a maker of new ones as its sender mints them. */
const DELIVERY_ID_HEADERS: Readonly<Record<string, () => string>> = {
  'x-shopify-webhook-id': randomUUID,
  'x-shopify-event-id': randomUUID,
  'x-github-delivery': randomUUID,
  'x-zendesk-webhook-invocation-id': () => String(randomInt(1e9, 1e10)),
  'webhook-id': () => `msg_${randomUUID().replaceAll('-', '')}`,
};

/** Stripe's unix-seconds fields (`created`, `due_by`, `canceled_at`, …): the only times that are numbers. */
const STRIPE_TIME_KEY = /^(?:created|due_by|[a-z_]+_at)$/;
/** A zoned ISO instant's fraction digits and zone. */
const ISO_PARTS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** `text` moved by `shiftMs` when it is a zoned ISO instant, written in its own zone and precision. */
function shiftInstant(text: string, shiftMs: number): string {
  const ms = parseIsoInstant(text);
  const parts = ISO_PARTS.exec(text);
  if (ms === undefined || parts === null) return text;
  const [, fraction = '', zone = 'Z'] = parts;
  const offsetMin = zone === 'Z' ? 0 : (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  const local = new Date(ms + shiftMs + offsetMin * 60_000).toISOString();
  const digits = fraction === '' ? '' : `.${(local.slice(20, 23) + fraction.slice(3)).slice(0, fraction.length)}`;
  return `${local.slice(0, 19)}${digits}${zone}`;
}

/**
 * Body ids a provider deduplicates on, each with its replacement: Stripe's and Zendesk's event
 * `id`; for Shopify the fulfillments a sample ships (their `order.shipped` is deduplicated on the
 * fulfillment), with their `gid://` forms. Orders, customers and tickets keep their ids, so
 * fresh samples still tell one story (order.created links the order to its customer).
 */
function bodyIdRenames(sample: Sample): Map<unknown, unknown> {
  const renames = new Map<unknown, unknown>();
  const id = str(field(sample.body, 'id'));
  if (sample.provider === 'stripe' && id !== null) renames.set(id, `evt_${randomBytes(12).toString('hex')}`);
  if (sample.provider === 'zendesk' && id !== null && str(field(sample.body, 'type'))?.startsWith('zen:event-type:')) renames.set(id, randomUUID());
  if (sample.provider === 'shopify') {
    const topic = sample.headers['x-shopify-topic'] ?? '';
    const fulfillments = topic.startsWith('fulfillments/') ? [sample.body] : field(sample.body, 'fulfillments');
    for (const fulfillment of Array.isArray(fulfillments) ? fulfillments : []) {
      const old = field(fulfillment, 'id');
      if (typeof old !== 'number') continue;
      const fresh = randomInt(1e12, 1e13);
      renames.set(old, fresh).set(`gid://shopify/Fulfillment/${old}`, `gid://shopify/Fulfillment/${fresh}`);
    }
  }
  return renames;
}

/** When the sample's provider dates it (the event's `occurredAt`), in ms; null when it does not (GitHub). */
function datedAt(sample: Sample): number | null {
  const normalized = webhookProviders[sample.provider].normalize(sample.provider, sample.body, { rawBody: sample.rawBody, headers: sample.headers });
  const occurredAt = normalized.ok && 'event' in normalized ? normalized.event.occurredAt : undefined;
  return occurredAt === undefined ? null : Date.parse(occurredAt);
}

/** Every leaf of a JSON value through `leaf`, with the key it is under. */
function mapLeaves(value: unknown, leaf: (value: unknown, key: string) => unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((item) => mapLeaves(item, leaf, key));
  const obj = record(value);
  if (obj === null) return leaf(value, key);
  return Object.fromEntries(Object.entries(obj).map(([name, item]) => [name, mapLeaves(item, leaf, name)]));
}

/**
 * The sample as a new event sent at `nowMs`, which is what `send` plays by default: new
 * delivery-id headers (Shopify's X-Shopify-Webhook-Id and -Event-Id, GitHub's
 * X-GitHub-Delivery, Zendesk's invocation id, Standard's `webhook-id`), new body ids the
 * provider deduplicates on (see {@link bodyIdRenames}), and every time in it moved by the one
 * amount that makes the provider date it `nowMs` (ISO instants keep their zone; Stripe's
 * unix-seconds fields move too), so the story's order and gaps stay as shipped (a delay's new
 * estimate is still days ahead). GitHub dates no delivery (the relay uses its receipt), so a
 * GitHub sample's times stay. `rawBody` is the new body's encoding.
 */
export function freshSample(sample: Sample, nowMs: number): Sample {
  const dated = datedAt(sample);
  const shiftMs = dated === null ? 0 : nowMs - dated;
  const renames = bodyIdRenames(sample);
  const body = mapLeaves(sample.body, (value, key) => {
    if (renames.has(value)) return renames.get(value);
    if (typeof value === 'string') return shiftInstant(value, shiftMs);
    const isStripeTime = sample.provider === 'stripe' && typeof value === 'number' && Number.isInteger(value) && STRIPE_TIME_KEY.test(key);
    return isStripeTime ? value + Math.round(shiftMs / 1000) : value;
  });
  const headers = Object.fromEntries(
    Object.entries(sample.headers).map(([name, value]) => [name, DELIVERY_ID_HEADERS[name]?.() ?? shiftInstant(value, shiftMs)]),
  );
  return { provider: sample.provider, headers, body, rawBody: Buffer.from(JSON.stringify(body)) };
}
