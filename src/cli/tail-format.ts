import { modeFromEnv } from '../../client/env-mode.js';
import { CLIENT_MODES, type ClientMode } from '../../client/options.js';
import type { SubscriptionError } from '../../client/subscription-error.js';
import type { Event } from '../events/event.js';
import { LOG_START } from '../events/ulid.js';
import { type PositionFlag, parsePositionFlag } from './position-flag.js';
import { listFlag, mcpEndpoint } from './relay-flags.js';

/**
 * What `mcp-event-relay tail` prints: one readable line per event, or one JSON object per
 * line for pipes; and the status lines (mode, reconnects, errors) that go to stderr.
 */

export interface TailSettings {
  url: string;
  token: string | undefined;
  mode: ClientMode | undefined;
  types: string[] | undefined;
  /** Tools mode: the consumer group tail acknowledges in (`<principal>/tail` keeps it apart from an agent's). */
  group: string | undefined;
  json: boolean;
  /** Where to start (`--from`): after an event id, or from a time on; from now when undefined. */
  from: PositionFlag | undefined;
}

export interface TailFlags {
  url?: string;
  token?: string;
  mode?: string;
  types?: string;
  group?: string;
  json?: boolean;
  from?: string;
}

/**
 * Flags first, then the environment: `RELAY_TOKEN` for the bearer token, `RELAY_CLIENT_MODE`
 * (read by the client) for the mode. `defaultUrl` is the relay `send` would talk to (HOST/PORT);
 * `now` is the clock a `--from` time ago counts back from. Throws a message for a mode it does
 * not know, a `--from` it cannot read, and `--from` in tools mode (whose start is its group's).
 */
export function tailSettings(flags: TailFlags, env: NodeJS.ProcessEnv, defaultUrl: string, now = Date.now()): TailSettings {
  if (flags.mode !== undefined && !(CLIENT_MODES as readonly string[]).includes(flags.mode)) {
    throw new Error(`--mode must be one of ${CLIENT_MODES.join(', ')}`);
  }
  const from = flags.from === undefined ? undefined : parsePositionFlag('--from', flags.from, now);
  if (from !== undefined && (flags.mode ?? modeFromEnv(env)) === 'tools') {
    throw new Error('--from needs push or poll mode: tools mode starts where its consumer group stands (move it with groups seek)');
  }
  return {
    url: mcpEndpoint(flags.url ?? defaultUrl),
    token: flags.token ?? (env.RELAY_TOKEN || undefined),
    mode: flags.mode as ClientMode | undefined,
    types: listFlag(flags.types),
    group: flags.group || undefined,
    json: flags.json === true,
    from,
  };
}

/** `2026-01-05T10:00:00.000Z  payment.failed  customer:cus_1  stripe  01J…`: time received, type, subject, source, id. */
export function formatEventLine(event: Event): string {
  return [event.receivedAt, event.type, event.subject ?? '-', event.source, event.id].join('  ');
}

/** The whole event as one line of JSON. */
export function formatEventJson(event: Event): string {
  return JSON.stringify(event);
}

export function formatEvent(event: Event, json: boolean): string {
  return json ? formatEventJson(event) : formatEventLine(event);
}

function messageOf(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  return typeof cause === 'string' ? cause : JSON.stringify(cause);
}

/**
 * A gap: `resumedAt` is the last event retention removed, or LOG_START when it never removed
 * any (the resume point was unknown to the relay, e.g. another relay's cursor).
 */
function formatGap(command: string, after: string | null, resumedAt: string | null): string {
  const from = after ?? '(none)';
  if (resumedAt === null) return `${command}: events after ${from} are no longer retained; some were skipped`;
  if (resumedAt === LOG_START) return `${command}: resume point ${from} is unknown to the relay; resuming from the oldest retained event`;
  return `${command}: events after ${from} through ${resumedAt} are no longer retained and were skipped`;
}

/** One stderr line for something the subscription reported, prefixed with the command that reports it. */
export function formatSubscriptionError(error: SubscriptionError, command = 'tail'): string {
  switch (error.kind) {
    case 'connection':
      return `${command}: connection lost (${messageOf(error.cause)}); reconnecting in ${error.delayMs} ms (attempt ${error.attempt})`;
    case 'truncated':
      return formatGap(command, error.after, error.resumedAt);
    case 'handler':
      return `${command}: could not print event ${error.event.id}: ${messageOf(error.cause)}`;
    case 'fatal':
      return `${command}: subscription ended: ${messageOf(error.cause)}`;
  }
}

/** The stderr line once the relay accepted the subscription. */
export function formatStart(mode: string, url: string, types: string[] | undefined): string {
  return `tail: ${mode} mode on ${url}${types ? ` (types: ${types.join(', ')})` : ''}`;
}
