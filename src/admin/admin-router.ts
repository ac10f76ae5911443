import { randomUUID } from 'node:crypto';
import express from 'express';
import type { EventFilter } from '../events/filter.js';
import { principalOf } from '../http/access.js';
import { sendError } from '../http/errors.js';
import { boundedJson } from '../http/json-body.js';
import type { EventLog } from '../log/event-log.js';
import type { WebhookSubscription, WebhookSubscriptionStore } from '../outbound/subscription-store.js';
import { type EventViews, listEvents, showEvent } from './admin-events.js';
import { type AdminRecorder, deleteGroup, type GroupViews, listDeadLetters, listGroups, replay, seekGroup, showGroup, workDeadLetters } from './admin-groups.js';

/** The `relay.admin` events that record every admin write. */
export const ADMIN_EVENT_TYPE = 'relay.admin';

export interface AdminOptions {
  log: EventLog;
  webhooks: WebhookSubscriptionStore;
  /** The consumer groups a request may see (its own; every one for an admin). */
  visible(req: express.Request): (group: string) => boolean;
  /** Whether the request may write: a principal in `RELAY_ADMIN_PRINCIPALS`, or anyone on an open loopback relay. */
  isAdmin(req: express.Request): boolean;
  filterOf(subscription: WebhookSubscription): EventFilter;
  now?: () => number;
}

/**
 * The operator API: find events (`/events`), see and move consumer groups (`/groups`), work
 * their dead letters, replay. Reads are scoped like `/status`: a principal sees its own groups
 * and webhook subscriptions (an admin every one) and, as over MCP, every event. Writes need an
 * admin (else 403, nothing changed), and each is recorded in the log as a `relay.admin` event
 * (who, what, on what, with what result) once it is done. Mounted behind the bearer check.
 */
export function adminRouter(options: AdminOptions): express.Router {
  const now = options.now ?? Date.now;
  const record: AdminRecorder = async (req, action, target, result) => {
    await options.log.append({
      source: 'relay',
      type: ADMIN_EVENT_TYPE,
      sourceType: `admin.${action}`,
      sourceEventId: `admin_${randomUUID()}`,
      occurredAt: new Date(now()).toISOString(),
      data: { principal: principalOf(req.auth), action, target, result },
      raw: null,
    });
  };
  const admin = (req: express.Request) => options.isAdmin(req);
  const onlyAdmins: express.RequestHandler = (req, res, next) => {
    if (admin(req)) return next();
    sendError(res, 403, 'forbidden', 'admin writes need a principal listed in RELAY_ADMIN_PRINCIPALS; nothing was changed');
  };
  const events: EventViews = {
    log: options.log,
    webhooks: options.webhooks,
    visible: options.visible,
    ownsSubscription: (req) => (admin(req) ? () => true : (s) => s.principal === principalOf(req.auth)),
    filterOf: options.filterOf,
    now,
  };
  const groups: GroupViews = { log: options.log, webhooks: options.webhooks, visible: options.visible, record, now };
  const body = boundedJson('64kb');
  const router = express.Router();
  router.get('/events', listEvents(events));
  router.get('/events/:id', showEvent(events));
  router.get('/groups', listGroups(groups));
  router.get('/groups/:group', showGroup(groups));
  router.delete('/groups/:group', onlyAdmins, deleteGroup(groups));
  router.post('/groups/:group/seek', onlyAdmins, body, seekGroup(groups));
  router.get('/groups/:group/dead-letters', listDeadLetters(groups));
  router.post('/groups/:group/dead-letters/requeue', onlyAdmins, body, workDeadLetters(groups, 'requeue'));
  router.post('/groups/:group/dead-letters/purge', onlyAdmins, body, workDeadLetters(groups, 'purge'));
  router.post('/replay', onlyAdmins, body, replay(groups));
  return router;
}

/** The paths {@link adminRouter} serves, for the 405 answers of other methods. */
export const ADMIN_PATHS = {
  get: ['/events', '/events/:id', '/groups', '/groups/:group/dead-letters'],
  getDelete: ['/groups/:group'],
  post: ['/groups/:group/seek', '/groups/:group/dead-letters/requeue', '/groups/:group/dead-letters/purge', '/replay'],
} as const;
