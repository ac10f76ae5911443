import { SCOPES, type Scope } from '../http/scopes.js';
import { listenedUris } from './modern/requests.js';

/** The scope each tool needs: consumer groups are `events:consume`, the customer memory is `events:read`. */
export const TOOL_SCOPES: Readonly<Record<string, Scope>> = {
  check_pending_events: SCOPES.consume,
  ack_event: SCOPES.consume,
  get_customer_context: SCOPES.read,
};

/** Methods that read the event log. */
const METHOD_SCOPES: Readonly<Record<string, Scope>> = {
  'events/poll': SCOPES.read,
  'events/stream': SCOPES.read,
  'events/subscribe': SCOPES.read,
  'events/unsubscribe': SCOPES.read,
};

/** A consumer group's queue (`events://`) is `events:consume`; any other resource (`customer://`) `events:read`. */
function resourceScope(uri: unknown): Scope {
  return typeof uri === 'string' && uri.startsWith('events://') ? SCOPES.consume : SCOPES.read;
}

function messageScopes(message: unknown): Scope[] {
  if (typeof message !== 'object' || message === null) return [];
  const { method, params } = message as { method?: unknown; params?: { name?: unknown; uri?: unknown } };
  if (typeof method !== 'string') return [];
  switch (method) {
    case 'tools/call': {
      const scope = typeof params?.name === 'string' ? TOOL_SCOPES[params.name] : undefined;
      return scope ? [scope] : [];
    }
    case 'resources/read':
    case 'resources/subscribe':
    case 'resources/unsubscribe':
      return [resourceScope(params?.uri)];
    case 'subscriptions/listen':
      return listenedUris(params).map(resourceScope);
    default: {
      const scope = METHOD_SCOPES[method];
      return scope ? [scope] : [];
    }
  }
}

/**
 * The scopes an access token needs for a `/mcp` body, in both eras: what the tool, resource or
 * Events method it calls needs. Discovery (`initialize`, `server/discover`, the lists,
 * `events/list`), notifications, responses and GET streams need only a valid token.
 */
export function mcpScopes(body: unknown): Scope[] {
  const messages = Array.isArray(body) ? body : [body];
  return [...new Set(messages.flatMap(messageScopes))];
}
