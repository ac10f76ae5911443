import type express from 'express';
import { z } from 'zod';
import { compileFilter, type EventFilter } from '../events/filter.js';
import { isUlid } from '../events/ulid.js';
import { sendError } from '../http/errors.js';
import { filterOfQuery } from '../http/query-filter.js';
import type { EventLog } from '../log/event-log.js';
import type { WebhookSubscription, WebhookSubscriptionStore } from '../outbound/subscription-store.js';
import { cursorAt, isBefore, parsePosition, type Position } from './positions.js';

const KNOWN = new Set(['after', 'before', 'types', 'sources', 'subjects', 'limit']);
const limitSchema = z.coerce.number().int().min(1).max(500).default(50);

export interface EventViews {
  log: EventLog;
  webhooks: WebhookSubscriptionStore;
  /** The groups a request may see. */
  visible(req: express.Request): (group: string) => boolean;
  /** The webhook subscriptions a request may see. */
  ownsSubscription(req: express.Request): (subscription: WebhookSubscription) => boolean;
  filterOf(subscription: WebhookSubscription): EventFilter;
  now(): number;
}

/** A query position, or the 400 it earns. */
function positionParam(res: express.Response, name: string, value: unknown): Position | undefined | null {
  if (value === undefined) return undefined;
  const position = typeof value === 'string' ? parsePosition(value) : undefined;
  if (position) return position;
  sendError(res, 400, 'invalid_position', `${name} must be an event id or an ISO 8601 time with its offset, e.g. 2026-12-07T10:00:00Z`);
  return null;
}

/**
 * `GET /events`: the log, oldest first, a page at a time (`nextCursor` is the next page's
 * `after`), between `after` and `before` (ids or times), narrowed by `types`, `sources`,
 * `subjects`. Every principal reads every event, as through `events/poll` and `/feed`.
 */
export function listEvents(views: EventViews): express.RequestHandler {
  return async (req, res) => {
    const query = req.query as Record<string, unknown>;
    const unknown = Object.keys(query).find((name) => !KNOWN.has(name));
    if (unknown !== undefined) return sendError(res, 400, 'unknown_parameter', `unknown query parameter "${unknown.slice(0, 40)}"; use ${[...KNOWN].join(', ')}`);
    const filter = filterOfQuery(query);
    if ('message' in filter) return sendError(res, 400, 'invalid_filter', filter.message);
    const limit = limitSchema.safeParse(query.limit);
    if (!limit.success) return sendError(res, 400, 'invalid_limit', 'limit is a whole number from 1 to 500');
    const after = positionParam(res, 'after', query.after);
    const before = positionParam(res, 'before', query.before);
    if (after === null || before === null) return;
    const cursor = after === undefined ? null : await cursorAt(views.log, after, views.now());
    const page = await views.log.read({ after: cursor, filter: filter.filter, limit: limit.data });
    const events = before === undefined ? page.events : page.events.filter((event) => isBefore(event.id, before));
    const ended = events.length < page.events.length || !page.hasMore;
    res.json({
      events,
      nextCursor: ended ? null : page.cursor,
      truncated: page.truncated,
      ...(page.truncated ? { resumedAt: page.resumedAt } : {}),
    });
  };
}

/**
 * `GET /events/:id`: the stored event, what each consumer group the caller may see did with
 * it, and where each of the caller's webhook subscriptions that match it stands: `done`
 * (at or behind the subscription's watermark: delivered, given up, or before it started),
 * `in_flight` (being attempted), `pending`.
 */
export function showEvent(views: EventViews): express.RequestHandler {
  return async (req, res) => {
    const id = String(req.params.id);
    if (!isUlid(id)) return sendError(res, 400, 'invalid_id', 'an event id is a 26-character ULID');
    const event = await views.log.get(id);
    if (event === undefined) return sendError(res, 404, 'not_found', `the log holds no event ${id} (never, or trimmed by retention)`);
    const visible = views.visible(req);
    const owns = views.ownsSubscription(req);
    const deliveries = (await views.log.deliveriesOf(id)).filter((d) => visible(d.group)).map((d) => ({
      ...d,
      leaseExpiresAt: iso(d.leaseExpiresAt),
      deadLetteredAt: iso(d.deadLetteredAt),
    }));
    const webhooks = (await views.webhooks.list())
      .filter((s) => owns(s) && compileFilter(views.filterOf(s))(event))
      .map((s) => ({ subscription: s.id, url: s.url, name: s.name, ...webhookState(s, id) }));
    res.json({ event, deliveries, webhooks });
  };
}

function webhookState(subscription: WebhookSubscription, id: string) {
  if (id <= subscription.cursor) return { state: 'done' as const };
  const inFlight = subscription.inFlight;
  if (inFlight?.eventId === id) return { state: 'in_flight' as const, attempts: inFlight.attempts, nextAttemptAt: iso(inFlight.nextAttemptAt) };
  return { state: 'pending' as const };
}

export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
