import type { ClaimRecord, GroupConsumers } from './consumers.js';
import type { Model } from './model.js';

/** How far the checker's and the relay's readings of one clock may disagree about a lease end. */
const CLOCK_MARGIN_MS = 50;
const MAX_FAILURES = 8;

/**
 * The consumer group's contract, after the drain: every committed event was acked exactly
 * once or dead-lettered (events trimmed before an ack are exempt); no event was leased to
 * two consumers at once; claims hand out committed, matching events in log order, with
 * growing delivery counts, and dead-letter only after `maxDeliveries`.
 */
export function checkGroup(consumers: GroupConsumers, model: Model, deadLettered: ReadonlySet<string>, maxDeliveries: number): string[] {
  if (!consumers.used) return [];
  const failures: string[] = [];
  const fail = (text: string) => {
    if (failures.length < MAX_FAILURES) failures.push(text);
  };
  const lastClaim = new Map<string, { claim: ClaimRecord; count: number; leaseExpiresAt: number }>();
  const maxCount = new Map<string, number>();
  consumers.claims.forEach((claim, n) => {
    let previous = '';
    for (const e of claim.events) {
      const known = model.event(e.id);
      if (!known) fail(`claim #${n} (consumer ${claim.consumer}) handed out ${e.id}, no committed event`);
      else if (claim.filter && !claim.filter.includes(known.type)) fail(`claim #${n} filtered to ${claim.filter.join(',')} handed out ${e.id} (${known.type})`);
      if (e.id <= previous) fail(`claim #${n} handed out ${e.id} after ${previous}: not in log order`);
      previous = e.id;
      const before = lastClaim.get(e.id);
      if (before) {
        if (claim.receivedAt < before.leaseExpiresAt - CLOCK_MARGIN_MS) {
          fail(`${e.id} leased to consumer ${claim.consumer} while consumer ${before.claim.consumer}'s lease ran until ${before.leaseExpiresAt} (claimed again at ${claim.receivedAt})`);
        }
        if (e.deliveryCount <= before.count) fail(`${e.id} delivered with count ${e.deliveryCount} after a delivery with count ${before.count}`);
      }
      if (e.deliveryCount < 1 || e.deliveryCount > maxDeliveries) fail(`${e.id} delivered with count ${e.deliveryCount} (max ${maxDeliveries})`);
      lastClaim.set(e.id, { claim, count: e.deliveryCount, leaseExpiresAt: e.leaseExpiresAt });
      maxCount.set(e.id, Math.max(maxCount.get(e.id) ?? 0, e.deliveryCount));
    }
  });
  const oks = new Map<string, number>();
  const unknown = new Set<string>();
  for (const ack of consumers.acks) {
    if (ack.outcome === 'ok') oks.set(ack.id, (oks.get(ack.id) ?? 0) + 1);
    else if (ack.outcome === 'unknown') unknown.add(ack.id);
    else if (ack.outcome === 'not_delivered' && !model.isTrimmed(ack.id)) fail(`ack of ${ack.id} by consumer ${ack.consumer} refused as not_delivered, though it was claimed`);
  }
  for (const id of deadLettered) {
    if (!model.event(id)) fail(`dead letter ${id} is no committed event`);
    const count = maxCount.get(id) ?? 0;
    if (count < maxDeliveries && consumers.lostClaims === 0) fail(`${id} dead-lettered after ${count} deliveries (max ${maxDeliveries})`);
  }
  for (const event of model.sorted()) {
    const acked = oks.get(event.id) ?? 0;
    const dead = deadLettered.has(event.id);
    if (acked > 1) fail(`${event.id} acked ${acked} times`);
    if (acked > 0 && dead) fail(`${event.id} both acked and dead-lettered`);
    if (acked === 0 && !dead && !unknown.has(event.id) && !model.isTrimmed(event.id)) {
      fail(`${event.id} (${event.type}) was neither acked nor dead-lettered, and retention never removed it`);
    }
  }
  return failures;
}
