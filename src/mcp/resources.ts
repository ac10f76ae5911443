import { type McpServer, type ProtocolError, ResourceNotFoundError, ResourceTemplate } from '@modelcontextprotocol/server';
import { groupNameSchema } from '../log/log-options.js';
import { ownedGroup } from './group-registry.js';
import type { RelayContext } from './relay-context.js';
import { decodeUriPart, groupOfUri, groupUri } from './resource-uris.js';
import { limitReached } from './wire-errors.js';

/**
 * `events://{group}`: a consumer group's pending queue. Reading peeks (leases nothing);
 * subscribing yields `notifications/resources/updated` whenever new events are committed.
 * The template is `{+group}` so that a nested group's URI (`events://alice/v1-x`, with its
 * `/`) matches; {@link groupOfUri} reads the group from it, in any spelling.
 */
export function registerResources(server: McpServer, principal: string, context: RelayContext): void {
  server.registerResource(
    'pending-events',
    new ResourceTemplate('events://{+group}', {
      list: async () => ({
        resources: [{ uri: groupUri(principal), name: `pending events of ${principal}`, mimeType: 'application/json' }],
      }),
    }),
    {
      title: 'Pending events of a consumer group',
      description: 'What check_pending_events would return next, without leasing it, plus the group counts. Subscribe to hear about new events.',
      mimeType: 'application/json',
    },
    async (uri) => {
      const named = groupOfUri(uri.href);
      if (named === undefined || !groupNameSchema.safeParse(named).success) throw new ResourceNotFoundError(uri.href);
      const group = ownedGroup(principal, named);
      const [counts, next] = await Promise.all([context.log.pending(group), context.log.peek(group, { limit: 10 })]);
      const body = { group, ...counts, next };
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(body) }] };
    },
  );
}

/** `customer://{customerId}/context`: what the reactions stored; subscribers hear of every change. */
export function registerCustomerResources(server: McpServer, context: RelayContext): void {
  server.registerResource(
    'customer-context',
    new ResourceTemplate('customer://{customerId}/context', { list: undefined }),
    {
      title: 'Customer context',
      description: "What the relay knows about a customer before they call; subscribe to hear when it changes.",
      mimeType: 'application/json',
    },
    async (uri, variables) => {
      const customerContext = await context.memory.get(decodeUriPart(String(variables.customerId)));
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(customerContext) }] };
    },
  );
}

/** A legacy session's subscribed URIs, which its listener index follows. */
export interface SessionSubscriptions {
  readonly size: number;
  has(uri: string): boolean;
  add(uri: string): void;
  delete(uri: string): void;
}

/** Resource URIs one 2025-11-25 session, or one `subscriptions/listen` stream, may watch. */
export const MAX_SUBSCRIPTIONS = 256;

export function tooManySubscriptions(): ProtocolError {
  return limitReached({ limit: 'subscriptions', max: MAX_SUBSCRIPTIONS, message: `at most ${MAX_SUBSCRIPTIONS} resource subscriptions per session or listen stream` });
}

/**
 * `resources/subscribe` and `resources/unsubscribe` for a legacy session: the SDK leaves
 * them to the server. (The 2026 revision replaces them with `subscriptions/listen`.)
 * Any URI is accepted and remembered, as the modern `resourceSubscriptions` filter accepts
 * any URI; only `events://{group}` and `customer://{id}/context` URIs ever change, and another
 * principal's group is refused. (The conformance scenario resources-subscribe subscribes to a
 * URI of its own.) At most {@link MAX_SUBSCRIPTIONS} per session.
 */
export function registerLegacySubscriptions(server: McpServer, principal: string, subscriptions: SessionSubscriptions): void {
  server.server.setRequestHandler('resources/subscribe', async (request) => {
    const group = groupOfUri(request.params.uri);
    if (group !== undefined) ownedGroup(principal, group);
    if (!subscriptions.has(request.params.uri) && subscriptions.size >= MAX_SUBSCRIPTIONS) throw tooManySubscriptions();
    subscriptions.add(request.params.uri);
    return {};
  });
  server.server.setRequestHandler('resources/unsubscribe', async (request) => {
    subscriptions.delete(request.params.uri);
    return {};
  });
}
