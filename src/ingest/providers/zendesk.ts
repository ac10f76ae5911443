import { isCatalogueType, type CatalogueType } from '../../events/catalogue.js';
import { buildEvent, subjectOf } from '../build-event.js';
import { field, header, isoFromText, str, strings } from '../fields.js';
import type { WebhookProvider } from '../provider.js';
import { reject } from '../rejection.js';
import { anyMatch, hmacSha256, usableSecrets } from '../signature.js';
import { checkTolerance, parseIsoInstant } from '../timestamp.js';

/** Base64 of a 32-byte HMAC. */
const SIGNATURE = /^[A-Za-z0-9+/]{43}=$/;
const EVENT_TYPE_PREFIX = 'zen:event-type:';
const PRIORITY_RANK = new Map([['low', 0], ['normal', 1], ['high', 2], ['urgent', 3]]);

/** Event subscriptions send upper-case enums, trigger placeholders lower-case. */
function lower(value: unknown): string | null {
  return str(value)?.toLowerCase() ?? null;
}

/** Raised to high or urgent from something lower: the signal agents treat as escalation. */
function isEscalation(previous: string | null, current: string | null): boolean {
  const to = PRIORITY_RANK.get(current ?? '') ?? -1;
  const from = PRIORITY_RANK.get(previous ?? '') ?? -1;
  return to >= 2 && to > from;
}

/** `{{ticket.tags}}` renders as one space-separated string; event subscriptions send an array. */
function tags(value: unknown): string[] {
  return strings(value) ?? str(value)?.split(/\s+/).filter((t) => t !== '') ?? [];
}

/**
 * Event subscriptions (`zen:event-type:ticket.*`): a CloudEvents-like body whose `id` is the
 * dedup id. Changes (`*_changed`, `comment_added`) are `ticket.updated`, except a priority
 * raised to high/urgent (`ticket.escalated`, reason `priority_raised`) and a status changed to
 * solved (`ticket.solved`). Deletions, merges, spam marks and user/organization events stay
 * unmapped.
 */
function fromSubscription(source: string, payload: unknown, sourceType: string) {
  const name = sourceType.slice(EVENT_TYPE_PREFIX.length);
  const detail = field(payload, 'detail');
  const previous = lower(field(payload, 'event', 'previous'));
  const current = lower(field(payload, 'event', 'current'));
  let type: CatalogueType | null = null;
  if (name === 'ticket.created') type = 'ticket.created';
  else if (name === 'ticket.priority_changed' && isEscalation(previous, current)) type = 'ticket.escalated';
  else if (name === 'ticket.status_changed' && current === 'solved') type = 'ticket.solved';
  else if (name.startsWith('ticket.') && (name.endsWith('_changed') || name === 'ticket.comment_added')) type = 'ticket.updated';
  // `subject` is `zen:<kind>:<id>`, e.g. `zen:ticket:35436` → `ticket:35436`.
  const [, kind, id] = /^zen:([a-z_]+):(.+)$/.exec(str(field(payload, 'subject')) ?? '') ?? [];
  const customerId = str(field(detail, 'requester_id'));
  return buildEvent({
    source,
    sourceEventId: field(payload, 'id'),
    sourceType,
    type,
    subject: kind && id ? subjectOf(kind, id) : null,
    customerId,
    occurredAt: isoFromText(field(payload, 'time')),
    data:
      type === null
        ? {}
        : {
            ...ticketData(detail, str(field(detail, 'id')) ?? (kind === 'ticket' ? (id ?? null) : null), customerId),
            change: name === 'ticket.created' ? null : name.slice('ticket.'.length),
            escalationReason: type === 'ticket.escalated' ? 'priority_raised' : null,
            previousPriority: name === 'ticket.priority_changed' ? previous : null,
          },
    raw: payload,
  });
}

/**
 * Trigger/automation webhooks: the body is whatever the trigger's JSON template renders, so
 * we define its shape:
 *
 *   { "type": "ticket.escalated", "ticket_id": "{{ticket.id}}", "title": "{{ticket.title}}",
 *     "status": "{{ticket.status}}", "priority": "{{ticket.priority}}",
 *     "requester_id": "{{ticket.requester.id}}", "assignee_id": "{{ticket.assignee.id}}",
 *     "group_id": "{{ticket.group.id}}", "tags": "{{ticket.tags}}",
 *     "escalation_reason": "wait_time", "updated_at": "{{ticket.updated_at_with_timestamp}}" }
 *
 * `type` (alias `kind`) is one of ticket.created/updated/escalated/solved or anything else
 * (kept unmapped). A non-empty `escalation_reason` — e.g. `wait_time`, `negative_sentiment`,
 * `complexity`, `sla_breach` — makes it `ticket.escalated` whatever the type says. Trigger
 * bodies have no event id: a template's `id` could well be the ticket's, so dedup is on
 * `X-Zendesk-Webhook-Invocation-Id` only.
 */
function fromTrigger(source: string, payload: unknown, invocationId: string | null) {
  const sourceType = str(field(payload, 'type')) ?? str(field(payload, 'kind'));
  const escalationReason = str(field(payload, 'escalation_reason')) || null;
  let type: CatalogueType | null = null;
  if (escalationReason !== null) type = 'ticket.escalated';
  else if (sourceType !== null && sourceType.startsWith('ticket.') && isCatalogueType(sourceType)) type = sourceType;
  const ticketId = str(field(payload, 'ticket_id'));
  const customerId = str(field(payload, 'requester_id')) || null;
  return buildEvent({
    source,
    sourceEventId: invocationId,
    sourceType,
    type,
    subject: subjectOf('ticket', ticketId),
    customerId,
    occurredAt: isoFromText(field(payload, 'updated_at')),
    data: type === null ? {} : { ...ticketData(payload, ticketId, customerId), change: null, escalationReason, previousPriority: null },
    raw: payload,
  });
}

function ticketData(ticket: unknown, ticketId: string | null, requesterId: string | null) {
  return {
    ticketId,
    title: str(field(ticket, 'subject')) ?? str(field(ticket, 'title')),
    status: lower(field(ticket, 'status')),
    priority: lower(field(ticket, 'priority')),
    requesterId,
    assigneeId: str(field(ticket, 'assignee_id')) || null,
    groupId: str(field(ticket, 'group_id')) || null,
    tags: tags(field(ticket, 'tags')),
  };
}

export const zendeskProvider: WebhookProvider = {
  kind: 'zendesk',

  verify(req, { secrets, nowMs, toleranceS }) {
    const received = header(req.headers, 'x-zendesk-webhook-signature');
    if (received === null) return reject('missing_signature', 'X-Zendesk-Webhook-Signature header is missing');
    const timestamp = header(req.headers, 'x-zendesk-webhook-signature-timestamp');
    if (timestamp === null) return reject('missing_timestamp', 'X-Zendesk-Webhook-Signature-Timestamp header is missing');
    const signedMs = parseIsoInstant(timestamp);
    if (signedMs === undefined) return reject('malformed_timestamp', 'the signature timestamp is not an ISO 8601 instant');
    if (!SIGNATURE.test(received)) return reject('malformed_signature', 'the signature is not a base64 SHA-256 HMAC');
    // Signed bytes are `<timestamp><body>` with no separator; the key is the secret text itself.
    const expected = usableSecrets(secrets).map((secret) => hmacSha256(secret, [timestamp, req.rawBody], 'base64'));
    if (!anyMatch(expected, [received])) return reject('signature_mismatch', 'the HMAC matches no configured secret');
    return checkTolerance(signedMs, nowMs, toleranceS) ?? { ok: true };
  },

  normalize(source, payload, req) {
    const bodyType = str(field(payload, 'type'));
    return bodyType?.startsWith(EVENT_TYPE_PREFIX)
      ? fromSubscription(source, payload, bodyType)
      : fromTrigger(source, payload, header(req.headers, 'x-zendesk-webhook-invocation-id'));
  },
};
