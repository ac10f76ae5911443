import { McpServer, type ServerCapabilities, type ServerContext } from '@modelcontextprotocol/server';
import { EVENTS_EXTENSION_ID } from './client-capabilities.js';
import { registerEventMethods } from './events-methods.js';
import { registerWebhookMethods } from './webhook-methods.js';
import type { RelayContext } from './relay-context.js';
import { registerCustomerResources, registerLegacySubscriptions, registerResources, type SessionSubscriptions } from './resources.js';
import { registerTools } from './tools.js';

/** Who this server says it is: in `initialize` results, and in every 2026-07-28 result's `_meta`. */
export const SERVER_INFO = { name: 'mcp-event-relay', version: '0.1.0' };

/**
 * The Events draft's capability; mirrored under `experimental` because SDK clients drop
 * unknown top-level keys, and under `extensions` with a reverse-DNS id (SEP-2133).
 */
const EVENTS_CAPABILITY = { listChanged: true };

export const SERVER_CAPABILITIES = {
  tools: {},
  resources: { subscribe: true, listChanged: true },
  events: EVENTS_CAPABILITY,
  experimental: { events: EVENTS_CAPABILITY },
  extensions: { [EVENTS_EXTENSION_ID]: EVENTS_CAPABILITY },
} as unknown as ServerCapabilities;

const INSTRUCTIONS = `This server relays customer events (failed payments, shipments and delays, support tickets) as they happen.
If you can receive pushed events, declare the "events" capability and use events/stream; otherwise call check_pending_events at the start of every turn and ack_event for each event you handled.`;

export interface RelayServerSession {
  era: 'legacy' | 'modern';
  principal: string;
  /** What the client declared: from `initialize` (legacy) or the request's `_meta` (modern). */
  clientCapabilities(ctx: ServerContext): Record<string, unknown> | undefined;
  /** Legacy sessions: the resource URIs subscribed with `resources/subscribe`. */
  subscriptions?: SessionSubscriptions;
}

/** The one server definition both eras are built from: tools, resources and Events methods are defined once. */
export function createRelayServer(session: RelayServerSession, context: RelayContext): McpServer {
  const server = new McpServer(SERVER_INFO, { capabilities: SERVER_CAPABILITIES, instructions: INSTRUCTIONS });
  registerTools(server, session.principal, context);
  registerResources(server, session.principal, context);
  registerCustomerResources(server, context);
  if (session.subscriptions) registerLegacySubscriptions(server, session.principal, session.subscriptions);
  registerEventMethods(server, session, context);
  registerWebhookMethods(server, session, context);
  return server;
}
