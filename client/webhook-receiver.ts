import { WebhookEndpoint, type WebhookReceiverOptions } from './webhook-endpoint.js';
import { type WebhookHandler, webhookHandler } from './webhook-http.js';
import { webhookSecretKey } from './webhook-signature.js';
import { validateReceiverOptions } from './validate-options.js';

export type { WebhookReceiverOptions } from './webhook-endpoint.js';

export interface WebhookReceiver {
  /** Mount at the callback URL's path (`http.createServer(receiver.handler)`, `app.post(path, receiver.handler)`). */
  readonly handler: WebhookHandler;
  /** The secret to give `events/subscribe` (the first of `secret`). */
  readonly secret: string;
}

/**
 * The app's end of an Events webhook subscription, for one made by hand (`events/subscribe`
 * to any Events server); `subscribe({ mode: 'webhook' })` makes and keeps one itself. It
 * refuses what the relay did not send — another method (405), a body over 256 KiB and a
 * margin (413), missing headers (400), a timestamp outside the tolerance or a signature by
 * none of the secrets (401), unreadable JSON (400) — echoes the verification challenge, and
 * answers 2xx to an occurrence, gap or termination only once its callback has resolved
 * (500 when it throws, so the relay retries). Redeliveries of a `webhook-id` already handled
 * are answered 2xx without calling again.
 */
export function createWebhookReceiver(options: WebhookReceiverOptions): WebhookReceiver {
  validateReceiverOptions(options);
  const secrets = typeof options.secret === 'string' ? [options.secret] : options.secret;
  const endpoint = new WebhookEndpoint(secrets.map((s) => webhookSecretKey(s)!), options, options.dedupWindow ?? 1_000);
  return { handler: webhookHandler(() => [endpoint], options.toleranceSeconds ?? 300), secret: secrets[0]! };
}
