import type { CatalogueType } from '../../events/catalogue.js';
import { buildEvent, subjectOf } from '../build-event.js';
import { field, header, isoFromText, record, str, strings } from '../fields.js';
import type { WebhookProvider, WebhookRequest } from '../provider.js';
import { reject } from '../rejection.js';
import { anyMatch, hmacSha256, usableSecrets } from '../signature.js';

/** Base64 of a 32-byte HMAC. */
const SIGNATURE = /^[A-Za-z0-9+/]{43}=$/;

/** Carrier statuses that mean the parcel will be late (Shopify has no `orders/delayed`). */
const DELAY_STATUSES = new Set(['delayed', 'attempted_delivery', 'failure']);
const FAILED_FULFILLMENT = new Set(['cancelled', 'error', 'failure']);
/** Order topics that fire when a shipment makes the order (partially) fulfilled; the order carries its `fulfillments`. */
const ORDER_SHIPMENT_TOPICS = new Set(['orders/fulfilled', 'orders/partially_fulfilled']);

/** Classic deliveries prefix headers with `X-`; the newer Events flavour does not. */
function shopifyHeader(req: WebhookRequest, name: string): string | null {
  return header(req.headers, `x-shopify-${name}`, `shopify-${name}`);
}

/**
 * Fulfillment topics carry the shipment's progress in `shipment_status` (fulfillments/*)
 * or `status` (fulfillment_events/*); both use the same carrier vocabulary.
 */
function progressOf(topic: string, body: unknown): string | null {
  return str(field(body, topic.startsWith('fulfillment_events/') ? 'status' : 'shipment_status'));
}

function trackingNumberOf(fulfillment: unknown): string | null {
  return str(field(fulfillment, 'tracking_number')) ?? strings(field(fulfillment, 'tracking_numbers'))?.[0] ?? null;
}

function failed(fulfillment: unknown): boolean {
  return FAILED_FULFILLMENT.has(str(field(fulfillment, 'status')) ?? '');
}

/**
 * The shipment an orders/fulfilled or orders/partially_fulfilled delivery announces: of the
 * order's `fulfillments`, the most recently created one that has a tracking number and did not
 * fail (the later in the list on a tie). A delivery makes one event, so when several tracked
 * fulfillments are new in one delivery only the latest is told by it; fulfillments/create
 * tells each one, and deduplicates with this (see {@link shipmentEventId}).
 */
function latestTrackedFulfillment(order: unknown): unknown {
  const fulfillments = field(order, 'fulfillments');
  let latest: unknown = null;
  let latestMs = Number.NEGATIVE_INFINITY;
  for (const fulfillment of Array.isArray(fulfillments) ? fulfillments : []) {
    if (record(fulfillment) === null || failed(fulfillment) || trackingNumberOf(fulfillment) === null) continue;
    const createdMs = Date.parse(isoFromText(field(fulfillment, 'created_at')) ?? '');
    const ms = Number.isNaN(createdMs) ? Number.NEGATIVE_INFINITY : createdMs;
    if (ms >= latestMs) [latest, latestMs] = [fulfillment, ms];
  }
  return latest;
}

/** The fulfillment a topic is about: the body of fulfillments/*, the shipment of an order's fulfilled topics. */
function fulfillmentOf(topic: string, body: unknown): unknown {
  if (topic.startsWith('fulfillments/')) return body;
  return ORDER_SHIPMENT_TOPICS.has(topic) ? latestTrackedFulfillment(body) : null;
}

function shipmentType(topic: string, body: unknown): CatalogueType | null {
  const progress = progressOf(topic, body);
  if (progress !== null && DELAY_STATUSES.has(progress)) return 'order.delayed';
  if (progress === 'delivered') return 'order.delivered';
  if (topic === 'fulfillment_events/create') return null;
  const status = str(field(body, 'status'));
  const hasTracking = trackingNumberOf(body) !== null || str(field(body, 'tracking_company')) !== null;
  const shipped = !failed(body) && (status === 'success' || hasTracking);
  return shipped ? 'order.shipped' : null;
}

function catalogueType(topic: string, body: unknown, fulfillment: unknown): CatalogueType | null {
  switch (topic) {
    case 'orders/create':
      return 'order.created';
    case 'orders/cancelled':
      return 'order.canceled';
    case 'orders/fulfilled':
    case 'orders/partially_fulfilled':
      return fulfillment === null ? null : 'order.shipped';
    case 'fulfillments/create':
    case 'fulfillments/update':
    case 'fulfillment_events/create':
      return shipmentType(topic, body);
    default:
      return null;
  }
}

/**
 * A fulfillment ships once, whichever topic tells it (fulfillments/create or /update,
 * orders/fulfilled, orders/partially_fulfilled): its `order.shipped` is deduplicated on the
 * fulfillment, not on the delivery, so a shop subscribed to several of them stores one event
 * per shipment and later updates of it (in transit, out for delivery) add none. A fulfillment
 * first shipped without a tracking number ships once more when it gets one.
 */
function shipmentEventId(fulfillment: unknown): string | null {
  const id = str(field(fulfillment, 'id'));
  if (id === null) return null;
  return `fulfillment/${id}/shipped${trackingNumberOf(fulfillment) === null ? '-untracked' : ''}`;
}

function dataFor(topic: string, type: CatalogueType | null, body: unknown, fulfillment: unknown, orderId: string | null, customerId: string | null) {
  const fulfillmentId = str(field(body, topic.startsWith('fulfillments/') ? 'id' : 'fulfillment_id'));
  switch (type) {
    case 'order.created':
      return {
        orderId,
        orderName: str(field(body, 'name')),
        customerId,
        email: str(field(body, 'email')),
        totalPrice: str(field(body, 'total_price')),
        currency: str(field(body, 'currency')),
        financialStatus: str(field(body, 'financial_status')),
      };
    case 'order.canceled':
      return {
        orderId,
        orderName: str(field(body, 'name')),
        customerId,
        cancelReason: str(field(body, 'cancel_reason')),
        canceledAt: isoFromText(field(body, 'cancelled_at')),
      };
    case 'order.shipped':
      return {
        orderId,
        fulfillmentId: str(field(fulfillment, 'id')),
        trackingNumber: trackingNumberOf(fulfillment),
        trackingNumbers: strings(field(fulfillment, 'tracking_numbers')) ?? [],
        carrier: str(field(fulfillment, 'tracking_company')),
        trackingUrl: str(field(fulfillment, 'tracking_url')) ?? strings(field(fulfillment, 'tracking_urls'))?.[0] ?? null,
        shipmentStatus: str(field(fulfillment, 'shipment_status')),
      };
    case 'order.delayed':
      return {
        orderId,
        fulfillmentId,
        status: progressOf(topic, body),
        // Shopify never sends the estimate being replaced; consumers compare with what they saw.
        originalEstimate: null,
        newEstimate: isoFromText(field(body, 'estimated_delivery_at')),
        delayReason: str(field(body, 'message')) ?? progressOf(topic, body),
      };
    case 'order.delivered':
      return {
        orderId,
        fulfillmentId,
        deliveredAt: isoFromText(field(body, 'happened_at')) ?? isoFromText(field(body, 'updated_at')),
      };
    default:
      return {};
  }
}

/**
 * Shopify's webhooks (classic `X-Shopify-*` and the Events flavour's un-prefixed headers), by
 * `X-Shopify-Topic`: orders/create → `order.created`, orders/cancelled → `order.canceled`;
 * fulfillments/create and /update, orders/fulfilled and orders/partially_fulfilled →
 * `order.shipped` (one per fulfillment, whichever topics tell it); fulfillment_events/create
 * and fulfillment updates → `order.delayed` or `order.delivered` by the carrier's status.
 * Deduplicated per shop on X-Shopify-Event-Id (else X-Shopify-Webhook-Id), shipments on the
 * fulfillment.
 */
export const shopifyProvider: WebhookProvider = {
  kind: 'shopify',

  // Only the body is signed. Topic, ids and shop domain are bare headers, so a captured
  // delivery could be replayed under a fresh id: dedup stops honest retries, TLS the rest.
  verify(req, { secrets }) {
    const received = shopifyHeader(req, 'hmac-sha256');
    if (received === null) return reject('missing_signature', 'X-Shopify-Hmac-Sha256 header is missing');
    if (!SIGNATURE.test(received)) return reject('malformed_signature', 'X-Shopify-Hmac-Sha256 is not a base64 SHA-256 HMAC');
    const expected = usableSecrets(secrets).map((secret) => hmacSha256(secret, [req.rawBody], 'base64'));
    if (!anyMatch(expected, [received])) return reject('signature_mismatch', 'the HMAC matches no configured secret');
    return { ok: true };
  },

  normalize(source, payload, req) {
    const topic = shopifyHeader(req, 'topic');
    const shop = shopifyHeader(req, 'shop-domain');
    const eventId = shopifyHeader(req, 'event-id');
    const webhookId = shopifyHeader(req, 'webhook-id');
    const fulfillment = topic === null ? null : fulfillmentOf(topic, payload);
    const type = topic === null ? null : catalogueType(topic, payload, fulfillment);
    // Event-Id is shared by duplicates of one event; Webhook-Id is the fallback the newer docs name.
    const dedupId = (type === 'order.shipped' ? shipmentEventId(fulfillment) : null) ?? eventId ?? webhookId;
    const isOrder = topic?.startsWith('orders/') ?? false;
    const orderId = str(field(payload, isOrder ? 'id' : 'order_id'));
    const customerId = topic?.startsWith('customers/') ? str(field(payload, 'id')) : str(field(payload, 'customer', 'id'));
    return buildEvent({
      source,
      // Ids are unique per shop only, and one route may serve several shops.
      sourceEventId: dedupId === null || shop === null ? dedupId : `${shop}/${dedupId}`,
      sourceType: topic,
      type,
      subject: subjectOf('order', orderId) ?? subjectOf('customer', customerId),
      customerId,
      occurredAt:
        isoFromText(shopifyHeader(req, 'triggered-at')) ??
        isoFromText(field(payload, 'happened_at')) ??
        isoFromText(field(payload, 'updated_at')) ??
        isoFromText(field(payload, 'created_at')),
      data: {
        ...(topic === null ? {} : dataFor(topic, type, payload, fulfillment, orderId, customerId)),
        shopDomain: shop,
        shopifyEventId: eventId,
        shopifyWebhookId: webhookId,
      },
      raw: payload,
    });
  },
};
