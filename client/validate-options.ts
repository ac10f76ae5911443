import { z } from 'zod';
import { CLIENT_MODES, type EventClientOptions, type SubscribeOptions } from './options.js';
import { EventClientError } from './subscription-error.js';
import type { WebhookReceiverOptions } from './webhook-endpoint.js';
import { webhookSecretKey } from './webhook-signature.js';

const positive = z.number().int().positive();
const backoff = z.object({ initialDelayMs: positive.optional(), factor: z.number().min(1).max(10).optional(), maxDelayMs: positive.optional() }).optional();
const patterns = z.array(z.string().min(1)).optional();
const fn = (what: string) => z.custom<(...args: never[]) => unknown>((value) => typeof value === 'function', `${what} must be a function`);
const secret = z.string().refine((value) => webhookSecretKey(value) !== undefined, 'a secret is whsec_ and the base64 of 24–64 bytes');
const httpUrl = z.union([z.url(), z.instanceof(URL)]).refine((value) => /^https?:$/.test(new URL(value).protocol), 'an http or https URL');

const clientSchema = z.object({
  url: z.union([z.url(), z.instanceof(URL)]),
  token: z.string().min(1).optional(),
  mode: z.enum(CLIENT_MODES as [string, ...string[]]).optional(),
  heartbeatMs: positive.optional(),
  reconnect: backoff,
  pollTimeoutMs: z.number().int().min(0).max(60_000).optional(),
  toolsIntervalMs: positive.optional(),
});

const subscribeSchema = z
  .object({
    filter: z.object({ types: patterns, sources: patterns, subjects: patterns }).optional(),
    event: z.object({ name: z.string().min(1), arguments: z.record(z.string(), z.unknown()).optional() }).optional(),
    mode: z.enum([...CLIENT_MODES, 'webhook']).optional(),
    callbackUrl: httpUrl.optional(),
    secret: secret.optional(),
    onEvent: fn('onEvent'),
    // Opaque: whatever the server gave, in any format or length.
    cursor: z.string().min(1).optional(),
    group: z.string().min(1).max(128).optional(),
    leaseMs: z.number().int().min(1_000).max(3_600_000).optional(),
    attempts: positive.optional(),
    retry: backoff,
    dedupWindow: positive.optional(),
  })
  .refine((options) => !(options.filter && options.event), { message: 'give filter (this relay) or event (any Events server), not both' })
  .refine((options) => options.mode !== 'webhook' || options.callbackUrl !== undefined, { message: "mode 'webhook' needs the callbackUrl the relay posts to" })
  .refine((options) => options.mode === 'webhook' || (options.callbackUrl === undefined && options.secret === undefined), {
    message: "callbackUrl and secret are for mode 'webhook'",
  });

const receiverSchema = z.object({
  secret: z.union([secret, z.array(secret).min(1)]),
  onEvent: fn('onEvent'),
  onGap: fn('onGap').optional(),
  onTerminated: fn('onTerminated').optional(),
  toleranceSeconds: positive.optional(),
  dedupWindow: positive.optional(),
});

function check(schema: z.ZodType, value: unknown, what: string): void {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new EventClientError('invalid_options', `${what}: ${z.prettifyError(parsed.error)}`, { permanent: true });
}

/** Refuses bad options when they are given, not when the first event arrives. */
export function validateClientOptions(options: EventClientOptions): void {
  check(clientSchema, options, 'createEventClient options');
}

export function validateSubscribeOptions(options: SubscribeOptions): void {
  check(subscribeSchema, options, 'subscribe options');
}

export function validateReceiverOptions(options: WebhookReceiverOptions): void {
  check(receiverSchema, options, 'createWebhookReceiver options');
}
