import { describe, expect, it } from 'vitest';
import { shopifyProvider } from '../../../src/ingest/providers/shopify.js';
import { loadFixture, request } from '../../support/webhook-oracles.js';

const shop = 'vector-test.myshopify.com';
const shipped = loadFixture('order_shipped');
const fulfilled = loadFixture('order_fulfilled');
const order = fulfilled.body as Record<string, unknown>;
/** Order #1001 ships in two parcels: the shoes by UPS (order_shipped's fulfillment), then the socks by USPS. */
const [first, second] = order.fulfillments as [Record<string, unknown>, Record<string, unknown>];
const normalize = (topic: string, body: unknown, headers: Record<string, string> = {}) =>
  shopifyProvider.normalize('shopify', body, request('', { ...fulfilled.headers, 'x-shopify-topic': topic, ...headers }));
const withFulfillments = (fulfillments: unknown) => ({ ...order, fulfillment_status: 'partial', fulfillments });

describe('Shopify orders/fulfilled and orders/partially_fulfilled', () => {
  it('maps orders/fulfilled to order.shipped of its latest tracked fulfillment, with the order’s customer', () => {
    expect(shopifyProvider.normalize('shopify', fulfilled.body, request(fulfilled.rawBody, fulfilled.headers))).toEqual({
      ok: true,
      event: expect.objectContaining({
        type: 'order.shipped',
        sourceType: 'orders/fulfilled',
        sourceEventId: `${shop}/fulfillment/4553551200305/shipped`,
        subject: 'order:5600823296049',
        customerId: '7039217361201',
        occurredAt: '2023-11-15T14:30:01.000Z',
        data: {
          orderId: '5600823296049',
          fulfillmentId: '4553551200305',
          trackingNumber: '9400111899223197428490',
          trackingNumbers: ['9400111899223197428490'],
          carrier: 'USPS',
          trackingUrl: 'https://tools.usps.com/go/TrackConfirmAction?tLabels=9400111899223197428490',
          shipmentStatus: null,
          shopDomain: shop,
          shopifyEventId: '5b9d1f3a-7c2e-4d6b-8a0f-2e4c6a8d0b3f',
          shopifyWebhookId: '8d2f4b6a-1c3e-4f5a-9b7d-0e2c4a6f8b1d',
        },
      }),
    });
  });

  it('is one shipment whichever topic tells a fulfillment: one upstream id for fulfillments/create, /update and the order topics', () => {
    const idOf = (n: ReturnType<typeof normalize>) => (n.ok && 'event' in n ? [n.event.type, n.event.sourceEventId] : n);
    const firstParcel = [
      shopifyProvider.normalize('shopify', shipped.body, request('', shipped.headers)),
      normalize('orders/partially_fulfilled', withFulfillments([first])),
      normalize('fulfillments/update', { ...first, shipment_status: 'in_transit' }, { 'x-shopify-event-id': 'a-later-update' }),
    ];
    expect(firstParcel.map(idOf)).toEqual(Array(3).fill(['order.shipped', `${shop}/fulfillment/4553551102001/shipped`]));
    const secondParcel = [normalize('fulfillments/create', second, { 'x-shopify-event-id': 'its-own-event' }), normalize('orders/fulfilled', fulfilled.body)];
    expect(secondParcel.map(idOf)).toEqual(Array(2).fill(['order.shipped', `${shop}/fulfillment/4553551200305/shipped`]));
  });

  it('tells the latest created tracked fulfillment of orders/partially_fulfilled, wherever it is in the list', () => {
    for (const fulfillments of [[first, second], [second, first]]) {
      expect(normalize('orders/partially_fulfilled', withFulfillments(fulfillments))).toMatchObject({
        event: {
          type: 'order.shipped',
          sourceEventId: `${shop}/fulfillment/4553551200305/shipped`,
          data: { fulfillmentId: '4553551200305', carrier: 'USPS', trackingNumber: '9400111899223197428490' },
        },
      });
    }
  });

  it('takes the later in the list on a tie, and a fulfillment without a creation time as the oldest', () => {
    const tied = { ...second, created_at: first.created_at };
    expect(normalize('orders/fulfilled', withFulfillments([first, tied]))).toMatchObject({ event: { data: { fulfillmentId: '4553551200305' } } });
    const undated = { ...second, created_at: 'yesterday' };
    expect(normalize('orders/fulfilled', withFulfillments([undated, first]))).toMatchObject({ event: { data: { fulfillmentId: '4553551102001' } } });
  });

  it('skips cancelled, failed and untracked fulfillments', () => {
    const untracked = { ...second, id: 4553551300001, created_at: '2023-11-16T09:30:00-05:00', tracking_company: null, tracking_number: null, tracking_numbers: [] };
    const fulfillments = [first, { ...second, status: 'cancelled' }, { ...second, id: 4553551300002, status: 'failure' }, untracked];
    expect(normalize('orders/fulfilled', withFulfillments(fulfillments))).toMatchObject({ event: { data: { fulfillmentId: '4553551102001' } } });
  });

  it('reads a fulfillment tracked through tracking_numbers only', () => {
    const listed = { ...second, tracking_number: null };
    expect(normalize('orders/fulfilled', withFulfillments([listed]))).toMatchObject({
      event: { type: 'order.shipped', data: { trackingNumber: '9400111899223197428490' } },
    });
  });

  it.each([
    ['no fulfillments', []],
    ['only untracked ones (local delivery)', [{ ...first, tracking_company: null, tracking_number: null, tracking_numbers: [], tracking_url: null, tracking_urls: [] }]],
    ['fulfillments that are no list', { id: 1 }],
    ['entries that are no objects', [4553551102001, 'x', null]],
  ])('keeps an order with %s unmapped, deduplicated on the event id', (_, fulfillments) => {
    expect(normalize('orders/fulfilled', withFulfillments(fulfillments))).toMatchObject({
      ok: true,
      event: {
        type: 'shopify.orders/fulfilled',
        sourceEventId: `${shop}/5b9d1f3a-7c2e-4d6b-8a0f-2e4c6a8d0b3f`,
        subject: 'order:5600823296049',
        customerId: '7039217361201',
        data: { shopDomain: shop },
      },
    });
  });

  it('ships an untracked fulfillment once, and once more when it gets its tracking number', () => {
    const untracked = { ...first, tracking_company: null, tracking_number: null, tracking_numbers: [], tracking_url: null, tracking_urls: [] };
    expect(normalize('fulfillments/create', untracked)).toMatchObject({
      event: { type: 'order.shipped', sourceEventId: `${shop}/fulfillment/4553551102001/shipped-untracked`, data: { trackingNumber: null } },
    });
    expect(normalize('fulfillments/update', first)).toMatchObject({
      event: { type: 'order.shipped', sourceEventId: `${shop}/fulfillment/4553551102001/shipped` },
    });
  });

  it('keeps the shipment id unprefixed without a shop domain, and on the event id without a fulfillment id', () => {
    expect(normalize('orders/fulfilled', fulfilled.body, { 'x-shopify-shop-domain': '' })).toMatchObject({
      event: { sourceEventId: 'fulfillment/4553551200305/shipped' },
    });
    const { id: _dropped, ...anonymous } = first;
    expect(normalize('orders/fulfilled', withFulfillments([anonymous]))).toMatchObject({
      event: { type: 'order.shipped', sourceEventId: `${shop}/5b9d1f3a-7c2e-4d6b-8a0f-2e4c6a8d0b3f`, data: { fulfillmentId: null } },
    });
  });
});
