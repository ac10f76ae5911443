import type { CatalogueType } from '../../events/catalogue.js';
import { buildEvent, subjectOf } from '../build-event.js';
import { bool, field, header, isoFromSeconds, num, str } from '../fields.js';
import type { WebhookProvider } from '../provider.js';
import { reject } from '../rejection.js';
import { anyMatch, hmacSha256, usableSecrets } from '../signature.js';
import { checkTolerance, parseUnixSeconds } from '../timestamp.js';

const V1_SIGNATURE = /^[0-9a-f]{64}$/;

/**
 * `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…]`. During a secret roll Stripe sends one
 * `v1` per active secret. `v0` (test mode) and unknown schemes are ignored so a downgraded
 * header cannot be used.
 */
function parseSignatureHeader(value: string): { timestamps: string[]; signatures: string[] } {
  const timestamps: string[] = [];
  const signatures: string[] = [];
  for (const item of value.split(',')) {
    const at = item.indexOf('=');
    if (at <= 0) continue;
    const key = item.slice(0, at).trim();
    if (key === 't') timestamps.push(item.slice(at + 1).trim());
    else if (key === 'v1') signatures.push(item.slice(at + 1).trim());
  }
  return { timestamps, signatures };
}

const catalogue = new Map<string, CatalogueType>([
  ['payment_intent.payment_failed', 'payment.failed'],
  ['invoice.payment_failed', 'payment.failed'],
  ['payment_intent.succeeded', 'payment.succeeded'],
  ['invoice.paid', 'payment.succeeded'],
  ['invoice.payment_succeeded', 'payment.succeeded'],
  ['charge.refunded', 'refund.updated'],
  ['charge.refund.updated', 'refund.updated'],
  ['charge.dispute.created', 'dispute.opened'],
]);

function catalogueType(type: string | null): CatalogueType | null {
  if (type === null) return null;
  return catalogue.get(type) ?? (type.startsWith('refund.') ? 'refund.updated' : null);
}

/** An expandable reference: Stripe sends either the id or, when expanded, the object. */
function ref(value: unknown): string | null {
  return str(value) ?? str(field(value, 'id'));
}

/** The id of `obj` when it is a `kind` object, else its reference to one through `refField`. */
function idOf(obj: unknown, kind: string, refField: string): string | null {
  return field(obj, 'object') === kind ? str(field(obj, 'id')) : ref(field(obj, refField));
}

/** Amounts stay in the currency's minor unit, as Stripe sends them. */
function dataFor(type: CatalogueType | null, obj: unknown, customerId: string | null): Record<string, unknown> {
  const paymentId = idOf(obj, 'payment_intent', 'payment_intent');
  const currency = str(field(obj, 'currency'));
  const isInvoice = field(obj, 'object') === 'invoice';
  switch (type) {
    case 'payment.failed': {
      const error = field(obj, 'last_payment_error');
      return {
        paymentId,
        invoiceId: idOf(obj, 'invoice', 'invoice'),
        customerId,
        amount: num(field(obj, isInvoice ? 'amount_due' : 'amount')),
        currency,
        failureCode: str(field(error, 'code')),
        declineCode: str(field(error, 'decline_code')),
        failureMessage: str(field(error, 'message')),
      };
    }
    case 'payment.succeeded':
      return {
        paymentId,
        invoiceId: idOf(obj, 'invoice', 'invoice'),
        customerId,
        amount: num(field(obj, isInvoice ? 'amount_paid' : 'amount_received')) ?? num(field(obj, 'amount')),
        currency,
      };
    case 'refund.updated': {
      // charge.refunded carries the charge (running total); refund.* carry one refund.
      const isCharge = field(obj, 'object') === 'charge';
      return {
        refundId: idOf(obj, 'refund', 'refund'),
        chargeId: idOf(obj, 'charge', 'charge'),
        paymentId,
        customerId,
        amount: num(field(obj, isCharge ? 'amount_refunded' : 'amount')),
        currency,
        status: isCharge ? null : str(field(obj, 'status')),
        reason: isCharge ? null : str(field(obj, 'reason')),
        fullyRefunded: isCharge ? bool(field(obj, 'refunded')) : null,
      };
    }
    case 'dispute.opened':
      return {
        disputeId: idOf(obj, 'dispute', 'dispute'),
        chargeId: idOf(obj, 'charge', 'charge'),
        paymentId,
        customerId,
        amount: num(field(obj, 'amount')),
        currency,
        reason: str(field(obj, 'reason')),
        status: str(field(obj, 'status')),
        evidenceDueBy: isoFromSeconds(field(obj, 'evidence_details', 'due_by')),
      };
    default:
      return {};
  }
}

export const stripeProvider: WebhookProvider = {
  kind: 'stripe',

  verify(req, { secrets, nowMs, toleranceS }) {
    const value = header(req.headers, 'stripe-signature');
    if (value === null) return reject('missing_signature', 'Stripe-Signature header is missing');
    const { timestamps, signatures } = parseSignatureHeader(value);
    const [t] = timestamps;
    if (t === undefined) return reject('missing_timestamp', 'Stripe-Signature has no t= entry');
    const signedMs = timestamps.length === 1 ? parseUnixSeconds(t) : undefined;
    if (signedMs === undefined) return reject('malformed_timestamp', 'Stripe-Signature t= is not one unix timestamp');
    if (signatures.length === 0) return reject('missing_signature', 'Stripe-Signature has no v1= signature');
    if (!signatures.some((s) => V1_SIGNATURE.test(s))) {
      return reject('malformed_signature', 'no v1= signature is 64 lowercase hex digits');
    }
    // The key is the whole `whsec_…` string, used literally (not base64-decoded).
    const expected = usableSecrets(secrets).map((secret) => hmacSha256(secret, [`${t}.`, req.rawBody], 'hex'));
    if (!anyMatch(expected, signatures)) return reject('signature_mismatch', 'no v1= signature matches a configured secret');
    return checkTolerance(signedMs, nowMs, toleranceS) ?? { ok: true };
  },

  normalize(source, payload) {
    const sourceType = field(payload, 'type');
    const type = catalogueType(str(sourceType));
    const obj = field(payload, 'data', 'object');
    const customerId = field(obj, 'object') === 'customer' ? str(field(obj, 'id')) : ref(field(obj, 'customer'));
    const objectKind = str(field(obj, 'object'));
    const objectSubject = objectKind === null ? null : subjectOf(objectKind, str(field(obj, 'id')));
    return buildEvent({
      source,
      sourceEventId: field(payload, 'id'),
      sourceType,
      type,
      subject: subjectOf('customer', customerId) ?? objectSubject,
      customerId,
      occurredAt: isoFromSeconds(field(payload, 'created')),
      data: dataFor(type, obj, customerId),
      raw: payload,
    });
  },
};
