import type { AuthInfo } from '@modelcontextprotocol/server';

/**
 * The OAuth scopes an access token may carry, and what each allows:
 * - `events:read`: read the event log (`events/poll`, `events/stream`, `events/subscribe`,
 *   `GET /feed`, `GET /events`), the customer memory, `/status` and `/metrics`;
 * - `events:consume`: consumer groups (`check_pending_events`, `ack_event`, `events://`
 *   resources, `GET /groups…`);
 * - `relay:admin`: the operator API's writes and every group in the operator views, as for a
 *   principal in `RELAY_ADMIN_PRINCIPALS`; it implies the other two.
 */
export const SCOPES = { read: 'events:read', consume: 'events:consume', admin: 'relay:admin' } as const;

export type Scope = (typeof SCOPES)[keyof typeof SCOPES];

/** Every scope, as the protected-resource metadata lists them. */
export const ALL_SCOPES: readonly Scope[] = Object.values(SCOPES);

/** How a request was authenticated: an API key, an access token, or nothing (an open relay). */
export type Credential = 'key' | 'token' | 'open';

/**
 * The scopes of `needed` a request lacks. Only access tokens are bounded by scopes: an API key
 * and the open relay keep the rights they have without OAuth (admin writes still need an admin
 * principal). `relay:admin` implies every other scope.
 */
export function missingScopes(auth: AuthInfo | undefined, needed: readonly Scope[]): Scope[] {
  if (auth?.extra?.credential !== 'token' || auth.scopes.includes(SCOPES.admin)) return [];
  return needed.filter((scope) => !auth.scopes.includes(scope));
}
