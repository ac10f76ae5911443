/**
 * The normalized event types ingest maps provider deliveries onto. Everything else is kept
 * as `<source>.<provider type>`.
 */
export const catalogueTypes = [
  'payment.failed',
  'payment.succeeded',
  'refund.updated',
  'dispute.opened',
  'order.created',
  'order.shipped',
  'order.delayed',
  'order.delivered',
  'order.canceled',
  'ticket.created',
  'ticket.updated',
  'ticket.escalated',
  'ticket.solved',
] as const;

export type CatalogueType = (typeof catalogueTypes)[number];

const known: ReadonlySet<string> = new Set(catalogueTypes);

export function isCatalogueType(type: string): type is CatalogueType {
  return known.has(type);
}
