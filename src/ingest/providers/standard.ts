import { isCatalogueType } from '../../events/catalogue.js';
import { buildEvent, subjectOf } from '../build-event.js';
import { field, header, isoFromText, record, str } from '../fields.js';
import type { WebhookProvider, WebhookRequest } from '../provider.js';
import { reject } from '../rejection.js';
import { anyMatch, hmacSha256, standardWebhooksKey, usableSecrets } from '../signature.js';
import { checkTolerance, parseUnixSeconds } from '../timestamp.js';

/** Base64 of a 32-byte HMAC. */
const V1_SIGNATURE = /^[A-Za-z0-9+/]{43}=$/;

/**
 * The `webhook-id`, `webhook-timestamp` and `webhook-signature` of a delivery. Svix sends the
 * same scheme under `svix-*` names; the whole set comes from one family.
 */
export function webhookHeaders(req: WebhookRequest): { id: string | null; timestamp: string | null; signature: string | null } {
  const prefix = header(req.headers, 'webhook-signature') === null && header(req.headers, 'svix-signature') !== null ? 'svix' : 'webhook';
  return {
    id: header(req.headers, `${prefix}-id`),
    timestamp: header(req.headers, `${prefix}-timestamp`),
    signature: header(req.headers, `${prefix}-signature`),
  };
}

/**
 * Standard Webhooks (and Svix) senders. The body is `{ type, timestamp?, data }`. A `type`
 * already in the catalogue is kept as-is, so a sender of our own vocabulary (say, an internal
 * billing service sending `payment.failed`) needs no mapping; any other type is
 * `<source>.<type>`. `data` is passed through as the event's data. `subject` is taken from the
 * body's `subject` when it is a string, else `customer:<data.customer_id | data.customerId>`.
 */
export const standardProvider: WebhookProvider = {
  kind: 'standard',

  verify(req, { secrets, nowMs, toleranceS }) {
    const { id, timestamp, signature } = webhookHeaders(req);
    if (signature === null) return reject('missing_signature', 'webhook-signature header is missing');
    if (id === null) return reject('missing_event_id', 'webhook-id header is missing');
    if (timestamp === null) return reject('missing_timestamp', 'webhook-timestamp header is missing');
    const signedMs = parseUnixSeconds(timestamp);
    if (signedMs === undefined) return reject('malformed_timestamp', 'webhook-timestamp is not unix seconds');
    // A space-separated list, one entry per active key during rotation; v1a (ed25519) is skipped.
    const candidates = signature
      .split(' ')
      .filter((entry) => entry.startsWith('v1,'))
      .map((entry) => entry.slice('v1,'.length));
    if (candidates.length === 0) return reject('missing_signature', 'webhook-signature has no v1 signature');
    if (!candidates.some((c) => V1_SIGNATURE.test(c))) return reject('malformed_signature', 'no v1 signature is a base64 SHA-256 HMAC');
    const expected = usableSecrets(secrets)
      .map(standardWebhooksKey)
      .filter((key) => key !== undefined)
      .map((key) => hmacSha256(key, [`${id}.${timestamp}.`, req.rawBody], 'base64'));
    if (!anyMatch(expected, candidates)) return reject('signature_mismatch', 'no v1 signature matches a configured secret');
    return checkTolerance(signedMs, nowMs, toleranceS) ?? { ok: true };
  },

  normalize(source, payload, req) {
    const sourceType = field(payload, 'type');
    const type = str(sourceType);
    const customerId = str(field(payload, 'data', 'customer_id')) ?? str(field(payload, 'data', 'customerId'));
    return buildEvent({
      source,
      sourceEventId: webhookHeaders(req).id,
      sourceType,
      type: type !== null && isCatalogueType(type) ? type : null,
      subject: str(field(payload, 'subject')) ?? subjectOf('customer', customerId),
      customerId,
      occurredAt: isoFromText(field(payload, 'timestamp')),
      data: record(field(payload, 'data')) ?? {},
      raw: payload,
    });
  },
};
