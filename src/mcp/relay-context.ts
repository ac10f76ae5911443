import type { Budget } from '../http/budget.js';
import type { EventLog } from '../log/event-log.js';
import type { CustomerMemory } from '../customer-memory/customer-memory.js';
import type { DeliveryTracker } from '../observe/delivery-tracker.js';
import type { StreamObserver } from '../observe/stream-stats.js';
import type { CallbackSubscriptions } from '../outbound/subscriptions.js';
import type { GroupRegistry } from './group-registry.js';

/** What every MCP handler of this relay shares, whatever the era or session. */
export interface RelayContext {
  log: EventLog;
  /** What the reactions stored about each customer. */
  memory: CustomerMemory;
  /** The consumer group names in use, per principal, within `RELAY_MAX_GROUPS_PER_PRINCIPAL`. */
  groups: GroupRegistry;
  /** What `events/poll` suggests as the wait before the next poll after a short poll (no `timeoutMs`) that returned everything. */
  nextPollMs: number;
  /** Told each time an agent is handed or acks an event: what makes an event processed, not dropped. */
  delivery: Pick<DeliveryTracker, 'delivered' | 'acked'>;
  /** Told when push streams open and close. */
  streams: StreamObserver;
  /** `events/poll` requests waiting with `timeoutMs`, per principal and in total. */
  longPolls: Budget;
  /** Webhook subscriptions (`events/subscribe`). */
  webhooks: CallbackSubscriptions;
  /** `events/subscribe` requests in progress (each may verify an endpoint), per principal and in total. */
  subscribing: Budget;
  /** No API keys: every request runs as the open principal, which is not authenticated. */
  openAccess: boolean;
}
