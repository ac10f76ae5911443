import type { Budget } from '../http/budget.js';
import type { EventLog } from '../log/event-log.js';
import type { CustomerMemory } from '../memory/customer-memory.js';
import type { DeliveryTracker } from '../observe/delivery-tracker.js';
import type { StreamObserver } from '../observe/stream-stats.js';

/** What every MCP handler of this relay shares, whatever the era or session. */
export interface RelayContext {
  log: EventLog;
  /** What the reactions stored about each customer. */
  memory: CustomerMemory;
  /**
   * Consumer groups this process has seen (configured principals, claims, subscriptions):
   * the `events://{group}` URIs whose subscribers are told about new events.
   */
  knownGroups: Set<string>;
  /** What `events/poll` suggests as the wait before the next poll when caught up. */
  nextPollMs: number;
  /** Told each time an agent is handed or acks an event: what makes an event processed, not dropped. */
  delivery: Pick<DeliveryTracker, 'delivered' | 'acked'>;
  /** Told when push streams open and close. */
  streams: StreamObserver;
  /** `events/poll` requests waiting with `timeoutMs`, per principal and in total. */
  longPolls: Budget;
}
