import { describe, expect, it } from 'vitest';
import { shopifyProvider } from '../../../src/ingest/providers/shopify.js';
import { NOW, loadFixture, request } from '../../support/webhook-oracles.js';
import { describeVerifier } from './verifier-suite.js';

const secret = 'shpss_0123456789abcdef0123456789abcdef';
const shipped = loadFixture('order_shipped');
const v4Signature = 'DS6yNXbvI8UhggA7iZ1vJYcJfwOSkLj3Bz3NSHr0OLU=';
const options = (secrets: string[]) => ({ secrets, nowMs: NOW, toleranceS: 300 });

describeVerifier({
  kind: 'shopify',
  name: 'Shopify',
  secret,
  previousSecret: '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',
  body: shipped.rawBody,
  headers: shipped.headers,
  signatureHeader: 'x-shopify-hmac-sha256',
  withMac: (mac) => mac,
  timestamped: false,
});

describe('Shopify verification specifics', () => {
  it('accepts the reference vector V4', () => {
    const headers = { ...shipped.headers, 'x-shopify-hmac-sha256': v4Signature };
    expect(shopifyProvider.verify(request(shipped.rawBody, headers), options([secret]))).toEqual({ ok: true });
  });

  it('accepts the un-prefixed header of the Events flavour', () => {
    expect(shopifyProvider.verify(request(shipped.rawBody, { 'shopify-hmac-sha256': v4Signature }), options([secret]))).toEqual({ ok: true });
  });

  it('rejects the hex encoding of the right HMAC', () => {
    const hex = Buffer.from(v4Signature, 'base64').toString('hex');
    expect(shopifyProvider.verify(request(shipped.rawBody, { 'x-shopify-hmac-sha256': hex }), options([secret]))).toMatchObject({
      reason: 'malformed_signature',
    });
  });
});

describe('Shopify normalization', () => {
  const shop = 'vector-test.myshopify.com';
  const normalize = (topic: string, body: unknown, headers: Record<string, string> = {}) =>
    shopifyProvider.normalize('shopify', body, request('', { 'x-shopify-topic': topic, 'x-shopify-shop-domain': shop, 'x-shopify-event-id': 'e1', ...headers }));

  it('maps fulfillments/create with tracking to order.shipped, deduplicated per shop on the fulfillment', () => {
    expect(shopifyProvider.normalize('shopify', shipped.body, request(shipped.rawBody, shipped.headers))).toEqual({
      ok: true,
      event: expect.objectContaining({
        type: 'order.shipped',
        sourceType: 'fulfillments/create',
        sourceEventId: `${shop}/fulfillment/4553551102001/shipped`,
        subject: 'order:5600823296049',
        occurredAt: '2023-11-14T22:13:20.000Z',
        data: {
          orderId: '5600823296049',
          fulfillmentId: '4553551102001',
          trackingNumber: '1Z999AA10123456784',
          trackingNumbers: ['1Z999AA10123456784'],
          carrier: 'UPS',
          trackingUrl: 'https://www.ups.com/WebTracking?loc=en_US&requester=ST&trackNums=1Z999AA10123456784',
          shipmentStatus: null,
          shopDomain: shop,
          shopifyEventId: '98880550-7158-44d4-b7cd-2c97c8a091b5',
          shopifyWebhookId: 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
        },
      }),
    });
  });

  it('deduplicates other topics per shop on the event id, falling back to the webhook id when it is absent', () => {
    const created = loadFixture('order_created');
    expect(shopifyProvider.normalize('shopify', created.body, request('', created.headers))).toMatchObject({
      event: { sourceEventId: `${shop}/e4a7b2c9-0d3f-4a61-8e5b-9c2f7d1a3b46` },
    });
    const { 'x-shopify-event-id': _dropped, ...headers } = created.headers;
    expect(shopifyProvider.normalize('shopify', created.body, request('', headers))).toMatchObject({
      event: { sourceEventId: `${shop}/3c1e9f0b-7a2d-4e8c-9b5f-61d2a4c7e803` },
    });
  });

  it('reads the un-prefixed headers of the Events flavour', () => {
    const headers = { 'shopify-topic': 'orders/create', 'shopify-shop-domain': shop, 'shopify-webhook-id': 'w1' };
    expect(shopifyProvider.normalize('shopify', { id: 7 }, request('', headers))).toMatchObject({
      event: { type: 'order.created', sourceEventId: `${shop}/w1` },
    });
  });

  it('refuses a delivery with neither event id nor webhook id', () => {
    const headers = { 'x-shopify-topic': 'orders/create', 'x-shopify-shop-domain': shop };
    expect(shopifyProvider.normalize('shopify', { id: 7 }, request('', headers))).toMatchObject({ status: 400, reason: 'missing_event_id' });
  });

  it('refuses a delivery without a topic', () => {
    expect(shopifyProvider.normalize('shopify', { id: 7 }, request('', { 'x-shopify-event-id': 'e1' }))).toMatchObject({
      reason: 'missing_event_type',
    });
  });

  it('maps a delayed fulfillment event to order.delayed with the new estimate and reason', () => {
    const delayed = loadFixture('order_delayed');
    expect(shopifyProvider.normalize('shopify', delayed.body, request('', delayed.headers))).toMatchObject({
      event: {
        type: 'order.delayed',
        subject: 'order:5600823296049',
        data: {
          orderId: '5600823296049',
          fulfillmentId: '4553551102001',
          status: 'delayed',
          originalEstimate: null,
          newEstimate: '2023-11-20T23:00:00.000Z',
          delayReason: 'Weather delay at regional hub',
        },
      },
    });
  });

  it.each(['attempted_delivery', 'failure'])('maps a %s fulfillment event to order.delayed', (status) => {
    expect(normalize('fulfillment_events/create', { order_id: 1, fulfillment_id: 2, status })).toMatchObject({
      event: { type: 'order.delayed', data: { delayReason: status } },
    });
  });

  it('maps a delivered fulfillment event to order.delivered', () => {
    const body = { order_id: 1, fulfillment_id: 2, status: 'delivered', happened_at: '2023-11-20T10:00:00-05:00' };
    expect(normalize('fulfillment_events/create', body)).toMatchObject({
      event: { type: 'order.delivered', data: { orderId: '1', fulfillmentId: '2', deliveredAt: '2023-11-20T15:00:00.000Z' } },
    });
  });

  it('keeps an in-transit fulfillment event unmapped', () => {
    expect(normalize('fulfillment_events/create', { order_id: 1, status: 'in_transit' })).toMatchObject({
      event: { type: 'shopify.fulfillment_events/create', subject: 'order:1' },
    });
  });

  it.each([
    ['failure', 'order.delayed'],
    ['delivered', 'order.delivered'],
    ['in_transit', 'order.shipped'],
  ])('maps fulfillments/update with shipment status %s to %s', (shipmentStatus, type) => {
    const body = { id: 2, order_id: 1, status: 'success', shipment_status: shipmentStatus, tracking_company: 'DHL', tracking_number: 'JD01' };
    expect(normalize('fulfillments/update', body)).toMatchObject({ event: { type } });
  });

  it('keeps a cancelled fulfillment unmapped', () => {
    const body = { id: 2, order_id: 1, status: 'cancelled', tracking_company: 'DHL', tracking_number: 'JD01' };
    expect(normalize('fulfillments/update', body)).toMatchObject({ event: { type: 'shopify.fulfillments/update' } });
  });

  it('maps orders/create to order.created with the customer', () => {
    const order = { id: 5600823296049, name: '#1001', email: 'ana@example.com', total_price: '49.99', currency: 'EUR', customer: { id: 207119551 } };
    expect(normalize('orders/create', order)).toMatchObject({
      event: {
        type: 'order.created',
        subject: 'order:5600823296049',
        customerId: '207119551',
        data: { orderId: '5600823296049', orderName: '#1001', totalPrice: '49.99', currency: 'EUR' },
      },
    });
  });

  it('maps orders/cancelled to order.canceled with the reason', () => {
    const order = { id: 1, cancel_reason: 'customer', cancelled_at: '2023-11-15T10:00:00-05:00', customer: { id: 3 } };
    expect(normalize('orders/cancelled', order)).toMatchObject({
      event: { type: 'order.canceled', data: { cancelReason: 'customer', canceledAt: '2023-11-15T15:00:00.000Z' } },
    });
  });

  it('keeps an unmapped orders/* topic as shopify.<topic> about the order', () => {
    expect(normalize('orders/paid', { id: 1, customer: { id: 3 } })).toMatchObject({
      event: { type: 'shopify.orders/paid', subject: 'order:1', customerId: '3', data: { shopDomain: shop } },
    });
  });

  it('makes a customers/* topic about the customer', () => {
    expect(normalize('customers/update', { id: 3 })).toMatchObject({ event: { subject: 'customer:3', customerId: '3' } });
  });
});
