import { openReader } from '../delivery/reader.js';
import { LOG_START } from '../events/ulid.js';
import type { Logger } from '../observe/logger.js';
import type { McpEndpoint } from './mcp-endpoint.js';
import type { RelayContext } from './relay-context.js';
import { customerUri } from './resource-uris.js';

/** What every `events://{group}` URI starts with (another principal's group was refused when subscribing). */
const GROUP_SCHEME = 'events://';
/**
 * Commits closer together than this share one `events://` notification per URI. A listener
 * re-reads its queue when told; telling it more often tells it nothing new, and would cost
 * every listener a notification per commit under load.
 */
const GROUP_UPDATE_INTERVAL_MS = 100;

/**
 * Tells listeners that their resources changed: `events://{group}` when events are committed
 * (a consumer group takes every event, so each commit touches every group someone listens
 * to), `customer://{id}/context` when the customer's memory changes. A notification costs
 * one message per listener: the endpoint's listener indexes say who listens to what, and the
 * groups nobody listens to are never looked at. The first commit after a quiet spell is
 * notified at once; commits within {@link GROUP_UPDATE_INTERVAL_MS} of the last notification
 * share the next one. Customer changes arriving in one turn of the event loop share one.
 */
export async function startResourceUpdates(
  context: RelayContext,
  endpoint: Pick<McpEndpoint, 'resourceUpdated' | 'listenedUris'>,
  logger: Logger,
): Promise<() => void> {
  let scheduled: NodeJS.Timeout | undefined;
  let lastFlush = Number.NEGATIVE_INFINITY;
  const customers = new Set<string>();
  const flush = () => {
    scheduled = undefined;
    lastFlush = performance.now();
    for (const uri of endpoint.listenedUris()) if (uri.startsWith(GROUP_SCHEME)) endpoint.resourceUpdated(uri);
  };
  const flushCustomers = () => {
    for (const customerId of customers) endpoint.resourceUpdated(customerUri(customerId));
    customers.clear();
  };
  const stopMemory = context.memory.onChange(({ customerId }) => {
    if (customers.size === 0) setImmediate(flushCustomers);
    customers.add(customerId);
  });
  const touched = () => {
    if (scheduled) return;
    scheduled = setTimeout(flush, Math.max(0, lastFlush + GROUP_UPDATE_INTERVAL_MS - performance.now()));
  };
  const reader = openReader(
    context.log,
    { after: (await context.log.head()) ?? LOG_START },
    { events: touched, gap: touched, failed: (error) => logger.error({ err: error }, 'resource updates stopped: the log could not be read') },
  );
  return () => {
    reader.stop();
    clearTimeout(scheduled);
    stopMemory();
  };
}
