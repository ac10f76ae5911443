import { randomBytes } from 'node:crypto';
import { occurrenceHead } from '../delivery/occurrence-json.js';
import type { SerializedEvent } from '../log/event-log.js';

/** The Events draft's delivery profile: no webhook body is larger. */
export const MAX_CALLBACK_BODY_BYTES = 256 * 1024;

/** One signed POST to a subscriber: its `webhook-id` and raw body. */
export interface Envelope {
  webhookId: string;
  body: Buffer;
  /** `event` for an occurrence, else the control envelope's `type`. */
  kind: 'event' | 'gap' | 'terminated' | 'verification';
}

/**
 * An occurrence, its `cursor` the event's own id: delivery is sequential per subscription, so
 * every event before it has been delivered or abandoned when it is sent — the cursor is a
 * watermark a receiver can persist. `webhook-id` is the event id, so redeliveries deduplicate.
 */
export function eventEnvelope(name: string, event: SerializedEvent): Envelope {
  return { webhookId: event.id, body: Buffer.from(`${occurrenceHead(name, event)}}`), kind: 'event' };
}

/** Control envelopes carry `msg_<type>_<random>` ids: each one is news to the receiver. */
function control(kind: Exclude<Envelope['kind'], 'event'>, body: Record<string, unknown>): Envelope {
  return { webhookId: `msg_${kind}_${randomBytes(12).toString('hex')}`, body: Buffer.from(JSON.stringify({ type: kind, ...body })), kind };
}

/** Events were missed up to `cursor` (retention, or an event abandoned after its retries): treat as `truncated: true`. */
export function gapEnvelope(cursor: string, reason: string): Envelope {
  return control('gap', { cursor, reason });
}

/** The subscription is gone (or suspended until a refresh): `error` says why. */
export function terminatedEnvelope(error: { code: number; message: string; data?: Record<string, unknown> }): Envelope {
  return control('terminated', { error });
}

/** Before the first delivery: the endpoint echoes `{"challenge": …}` in a 2xx body. */
export function verificationEnvelope(challenge: string): Envelope {
  return control('verification', { challenge });
}
