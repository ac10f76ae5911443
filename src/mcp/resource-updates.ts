import { openReader } from '../delivery/reader.js';
import { LOG_START } from '../events/ulid.js';
import type { Logger } from '../observe/logger.js';
import type { McpEndpoint } from './mcp-endpoint.js';
import type { RelayContext } from './relay-context.js';
import { customerUri } from './resources.js';

/** What every `events://{group}` URI starts with (another principal's group was refused when subscribing). */
const GROUP_SCHEME = 'events://';

/**
 * Tells listeners that their resources changed: `events://{group}` when events are committed
 * (a consumer group takes every event, so each commit touches every group someone listens
 * to), `customer://{id}/context` when the customer's memory changes. Changes arriving in one
 * turn of the event loop are coalesced into one notification per URI. A commit costs one
 * notification per listener: the endpoint's listener indexes say who listens to what, and
 * the groups nobody listens to are never looked at.
 */
export async function startResourceUpdates(
  context: RelayContext,
  endpoint: Pick<McpEndpoint, 'resourceUpdated' | 'listenedUris'>,
  logger: Logger,
): Promise<() => void> {
  let pending = false;
  const customers = new Set<string>();
  const flush = () => {
    pending = false;
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
    if (pending) return;
    pending = true;
    setImmediate(flush);
  };
  const reader = openReader(
    context.log,
    { after: (await context.log.head()) ?? LOG_START },
    { events: touched, gap: touched, failed: (error) => logger.error({ err: error }, 'resource updates stopped: the log could not be read') },
  );
  return () => {
    reader.stop();
    stopMemory();
  };
}
