import { z } from 'zod';
import { DEFAULT_MAX_JSON_DEPTH } from '../http/json-depth.js';
import { parseJsonBody } from './json.js';
import { providerKinds, type Normalized, type ProviderKind, type WebhookProvider, type WebhookRequest } from './provider.js';
import { webhookProviders } from './providers/index.js';
import { reject } from './rejection.js';
import { standardWebhooksKey, usableSecrets } from './signature.js';

/** The providers whose secrets are Standard Webhooks keys (`whsec_<base64>`). */
const STANDARD_WEBHOOKS: ReadonlySet<ProviderKind> = new Set(['standard', 'mcp-events']);

export const webhookReceiverOptionsSchema = z
  .object({
    /** Which sender's scheme the route speaks. */
    provider: z.enum(providerKinds),
    /** The route's source name, stamped on every event (`type` falls back to `<source>.<type>`). */
    source: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, 'source must be lowercase letters, digits, "_", "-" or "." (max 64)'),
    /** Current secret first, then previous ones during a rotation window. */
    secrets: z.array(z.string()).min(1),
    /** Accepted clock difference for signed timestamps, both directions (default 300 s). */
    toleranceS: z.number().int().positive().max(86_400).default(300),
    /** Deepest JSON nesting accepted (default 64 containers). */
    maxDepth: z.number().int().min(1).max(1_000).default(DEFAULT_MAX_JSON_DEPTH),
  })
  .strict()
  .superRefine((options, ctx) => {
    if (usableSecrets(options.secrets).length === 0) {
      ctx.addIssue({ code: 'custom', path: ['secrets'], message: 'at least one non-blank secret is required' });
    }
    if (STANDARD_WEBHOOKS.has(options.provider) && options.secrets.some((s) => s.trim() !== '' && !standardWebhooksKey(s))) {
      ctx.addIssue({ code: 'custom', path: ['secrets'], message: 'Standard Webhooks secrets are whsec_<base64>' });
    }
  });

export type WebhookReceiverOptions = z.input<typeof webhookReceiverOptionsSchema>;

/**
 * One webhook route's ingest, without HTTP: authenticate the raw bytes, only then parse them
 * (depth-capped), then normalize into the event to append. The order is the security
 * property: nothing unauthenticated is ever parsed. Options are validated once, here, so a
 * misconfigured route fails at startup rather than rejecting every delivery.
 */
export class WebhookReceiver {
  readonly source: string;
  readonly provider: WebhookProvider;
  readonly #options: z.output<typeof webhookReceiverOptionsSchema>;

  constructor(options: WebhookReceiverOptions) {
    this.#options = webhookReceiverOptionsSchema.parse(options);
    this.source = this.#options.source;
    this.provider = webhookProviders[this.#options.provider];
  }

  /**
   * The event to append, the provider's own reply to a handshake, or why the delivery is
   * refused (a 400/401 for the sender).
   */
  receive(req: WebhookRequest, nowMs: number): Normalized {
    const { secrets, toleranceS, maxDepth } = this.#options;
    const verified = this.provider.verify(req, { secrets, nowMs, toleranceS });
    if (!verified.ok) return verified;
    const body = parseJsonBody(req.rawBody, maxDepth);
    if (!body.ok) {
      return body.reason === 'too_deep'
        ? reject('too_deep', `the body nests deeper than ${maxDepth} levels`)
        : reject('invalid_json', 'the body is not valid UTF-8 JSON');
    }
    return this.provider.normalize(this.source, body.value, req);
  }
}
