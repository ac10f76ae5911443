/**
 * The normalized event types: those ingest maps provider deliveries onto (everything else is
 * kept as `<source>.<provider type>`), and those the relay's reactions derive.
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
  // Derived by the relay's reactions (source `relay`, `data.causeId` names the cause).
  'outreach.requested',
  'handoff.requested',
  'notification.requested',
  // The relay's own drop-rate alert (source `relay`, `data.state` raised or cleared).
  'relay.alert',
] as const;

export type CatalogueType = (typeof catalogueTypes)[number];

const known: ReadonlySet<string> = new Set(catalogueTypes);

export function isCatalogueType(type: string): type is CatalogueType {
  return known.has(type);
}
