import { isCatalogueType } from '../../events/catalogue.js';
import { buildEvent } from '../build-event.js';
import { field, isoFromText, record } from '../fields.js';
import type { Normalized, WebhookProvider, WebhookRequest } from '../provider.js';
import { reject } from '../rejection.js';
import { parseUnixSeconds } from '../timestamp.js';
import { standardProvider, webhookHeaders } from './standard.js';

/** The control envelopes kept as events, and the type each becomes. */
const CONTROL_TYPES = { gap: 'relay.gap', terminated: 'relay.terminated' } as const;

/** A string, else null: the draft's fields are strings, never numbers standing for them. */
function text(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** An event of a relay's log, as an occurrence from one carries it in `data`. */
function relayEvent(data: unknown): { type: string; subject: string | null; customerId: string | null; data: Record<string, unknown> } | null {
  const type = text(field(data, 'type'));
  const fields = record(field(data, 'data'));
  if (type === null || fields === null || text(field(data, 'id')) === null || text(field(data, 'source')) === null) return null;
  return { type, subject: text(field(data, 'subject')), customerId: text(field(data, 'customerId')), data: fields };
}

/**
 * `{eventId, name, timestamp, data, cursor}`. From a relay, `data` is the upstream event: its
 * type (a catalogue type kept as it is, any other as `<source>.<type>`), subject, customer and
 * fields carry over. From any other Events server, `name` is the provider type and `data` the
 * event's data.
 */
function occurrence(source: string, body: Record<string, unknown>): Normalized {
  const name = text(field(body, 'name'));
  if (name === null || name === '') return reject('malformed_envelope', 'an occurrence names its event in `name`');
  const occurredAt = isoFromText(field(body, 'timestamp'));
  if (occurredAt === null) return reject('malformed_envelope', "an occurrence's `timestamp` is an ISO 8601 instant with a zone");
  const upstream = relayEvent(field(body, 'data'));
  const sourceType = upstream?.type ?? name;
  return buildEvent({
    source,
    sourceEventId: field(body, 'eventId'),
    sourceType,
    type: isCatalogueType(sourceType) ? sourceType : null,
    subject: upstream?.subject,
    customerId: upstream?.customerId,
    occurredAt,
    data: upstream?.data ?? record(field(body, 'data')) ?? {},
    raw: body,
  });
}

/**
 * A `gap` (`{cursor, reason}`: events up to `cursor` were missed) or `terminated` (`{error}`:
 * the subscription ended) envelope, kept as `relay.gap` / `relay.terminated` so the log shows
 * where its copy of the upstream has holes. Deduplicated on `webhook-id`, dated by the signed
 * `webhook-timestamp`.
 */
function control(source: string, kind: keyof typeof CONTROL_TYPES, body: Record<string, unknown>, req: WebhookRequest): Normalized {
  const { id, timestamp } = webhookHeaders(req);
  let data: Record<string, unknown>;
  if (kind === 'gap') {
    const cursor = text(field(body, 'cursor'));
    if (cursor === null || cursor === '') return reject('malformed_envelope', 'a gap envelope carries the `cursor` it resumes after');
    data = { cursor, reason: text(field(body, 'reason')) };
  } else {
    const error = record(field(body, 'error'));
    if (error === null) return reject('malformed_envelope', 'a terminated envelope carries an `error` object');
    data = { error };
  }
  const signedMs = timestamp === null ? undefined : parseUnixSeconds(timestamp);
  return buildEvent({
    source,
    sourceEventId: id,
    sourceType: kind,
    type: CONTROL_TYPES[kind],
    occurredAt: signedMs === undefined ? null : new Date(signedMs).toISOString(),
    data,
    raw: body,
  });
}

/**
 * Another relay's (or any Events server's) webhook deliveries, as its `events/subscribe`
 * sends them: Standard Webhooks signatures (the `standard` provider's check), and bodies that
 * are an occurrence, or a control envelope named by `type`. A `verification` is answered
 * with its `challenge` and stores nothing; `gap` and `terminated` are kept as events; any
 * other `type` is refused. Occurrences deduplicate on `eventId`, the upstream's log id.
 */
export const mcpEventsProvider: WebhookProvider = {
  kind: 'mcp-events',

  verify: standardProvider.verify,

  normalize(source, payload, req) {
    const body = record(payload);
    if (body === null) return reject('malformed_envelope', 'the body is not a JSON object');
    const type = field(body, 'type');
    if (type === null) return occurrence(source, body);
    if (type === 'verification') {
      const challenge = text(field(body, 'challenge'));
      return challenge === null || challenge === '' ? reject('malformed_envelope', 'a verification envelope carries a `challenge`') : { ok: true, reply: { challenge } };
    }
    if (type === 'gap' || type === 'terminated') return control(source, type, body, req);
    return reject('unknown_envelope', 'the body is an occurrence or a verification, gap or terminated envelope');
  },
};
