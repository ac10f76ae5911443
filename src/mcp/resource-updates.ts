import { LOG_START } from '../events/ulid.js';
import type { McpEndpoint } from './mcp-endpoint.js';
import type { RelayContext } from './relay-context.js';
import { groupUri } from './resources.js';

/**
 * Tells `events://{group}` subscribers that new events were committed. A consumer group
 * takes every event, so each commit touches every known group; commits arriving in one
 * turn of the event loop are coalesced into one notification per group.
 */
export async function startResourceUpdates(context: RelayContext, endpoint: Pick<McpEndpoint, 'resourceUpdated'>): Promise<() => void> {
  let pending = false;
  const flush = () => {
    pending = false;
    for (const group of context.knownGroups) endpoint.resourceUpdated(groupUri(group));
  };
  const follower = context.log.follow(
    { after: (await context.log.head()) ?? LOG_START },
    {
      onEvent: () => {
        if (pending) return;
        pending = true;
        setImmediate(flush);
      },
    },
  );
  return () => follower.stop();
}
