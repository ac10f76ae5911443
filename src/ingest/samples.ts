import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProviderKind } from './provider.js';

/**
 * Realistic deliveries, one per common case, shaped like the providers' documented
 * payloads. `send` plays them at a running relay; the tests reuse them. They live in
 * `samples/webhooks/` at the package root so the installed package ships them.
 */
export const sampleNames = [
  'payment_failed',
  'payment_succeeded',
  'refund',
  'order_shipped',
  'order_delayed',
  'ticket_created',
  'ticket_escalated',
  'github_issue',
  'standard',
] as const;

export type SampleName = (typeof sampleNames)[number];

/** The schemes samples are shipped for: third-party senders (`mcp-events` deliveries come from a relay's `events/subscribe`). */
export type SampleProvider = Exclude<ProviderKind, 'mcp-events'>;

export interface Sample {
  /** The scheme it is signed with. */
  provider: SampleProvider;
  /** Its non-signature headers (topic, delivery id, …), lower-cased. */
  headers: Record<string, string>;
  body: unknown;
  /** The exact bytes to send and sign. */
  rawBody: Buffer;
}

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

export function loadSample(name: SampleName): Sample {
  const file = JSON.parse(readFileSync(join(samplesDir(), `${name}.json`), 'utf8')) as {
    source: SampleProvider;
    headers: Record<string, string>;
    body: unknown;
  };
  return { provider: file.source, headers: file.headers, body: file.body, rawBody: Buffer.from(JSON.stringify(file.body)) };
}
