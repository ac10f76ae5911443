import type { EventLog } from '../log/event-log.js';
import type { CustomerMemory } from '../memory/customer-memory.js';

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
}
