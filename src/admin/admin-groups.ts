import type express from 'express';
import { z } from 'zod';
import { eventFilterSchema } from '../events/filter.js';
import { isUlid, LOG_START, ulidTime } from '../events/ulid.js';
import { sendError } from '../http/errors.js';
import type { DeadLetterSelection, EventLog, GroupState } from '../log/event-log.js';
import type { WebhookSubscriptionStore } from '../outbound/subscription-store.js';
import { iso } from './admin-events.js';
import { cursorAt, isBefore, parsePosition } from './positions.js';

/** Records one admin write as a `relay.admin` event; resolves once it is committed. */
export type AdminRecorder = (req: express.Request, action: string, target: Record<string, unknown>, result: Record<string, unknown>) => Promise<void>;

export interface GroupViews {
  log: EventLog;
  webhooks: WebhookSubscriptionStore;
  visible(req: express.Request): (group: string) => boolean;
  record: AdminRecorder;
  now(): number;
}

const idList = z.array(z.string().refine(isUlid, 'an event id')).min(1).max(1000);
const selectionSchema = z
  .object({ ids: idList.optional(), filter: eventFilterSchema.optional(), all: z.literal(true).optional(), limit: z.number().int().min(1).max(1000).optional() })
  .strict()
  .refine((s) => [s.ids, s.filter, s.all].filter((part) => part !== undefined).length === 1, 'give exactly one of ids, filter or all: true');
const seekSchema = z.object({ to: z.string().min(1).max(64) }).strict();
const replaySchema = z
  .object({
    group: z.string().min(1).max(200).optional(),
    subscription: z.string().regex(/^sub_[0-9a-f]{32}$/).optional(),
    ids: idList.optional(),
    after: z.string().max(64).optional(),
    before: z.string().max(64).optional(),
    limit: z.number().int().min(1).max(1000).default(1000),
  })
  .strict()
  .refine((r) => (r.group === undefined) !== (r.subscription === undefined), 'give exactly one of group or subscription')
  .refine((r) => (r.ids !== undefined) !== (r.after !== undefined || r.before !== undefined), 'give ids, or a range: after and/or before');

function invalid(res: express.Response, error: z.ZodError): void {
  sendError(res, 400, 'invalid_request', z.prettifyError(error).replace(/\s+/g, ' ').slice(0, 300));
}

function stateOf(group: string, state: GroupState) {
  return { group, ...state };
}

/** The group named by the path, if the request may see it; else a 404 is sent. */
function seenGroup(views: GroupViews, req: express.Request, res: express.Response): string | undefined {
  const group = String(req.params.group);
  if (views.visible(req)(group)) return group;
  sendError(res, 404, 'not_found', `no consumer group "${group.slice(0, 200)}" you may see`);
  return undefined;
}

export function listGroups(views: GroupViews): express.RequestHandler {
  return async (req, res) => {
    const visible = views.visible(req);
    const groups = [];
    for (const group of (await views.log.groups()).filter(visible)) {
      const state = await views.log.groupState(group);
      if (state) groups.push(stateOf(group, state));
    }
    res.json({ groups });
  };
}

export function showGroup(views: GroupViews): express.RequestHandler {
  return async (req, res) => {
    const group = seenGroup(views, req, res);
    if (group === undefined) return;
    const state = await views.log.groupState(group);
    if (state === undefined) return sendError(res, 404, 'not_found', `the log holds no consumer group "${group.slice(0, 200)}"`);
    res.json(stateOf(group, state));
  };
}

/** `POST /groups/:group/seek {to}`: `start`, `now`, an event id, or a time (the group then receives everything committed from it on). */
export function seekGroup(views: GroupViews): express.RequestHandler {
  return async (req, res) => {
    const group = String(req.params.group);
    const body = seekSchema.safeParse(req.body);
    if (!body.success) return invalid(res, body.error);
    const { to } = body.data;
    const position = to === 'start' || to === 'now' ? undefined : parsePosition(to);
    if (to !== 'start' && to !== 'now' && position === undefined) return sendError(res, 400, 'invalid_position', 'to is start, now, an event id or an ISO 8601 time');
    const after = to === 'start' ? LOG_START : to === 'now' ? ((await views.log.head()) ?? LOG_START) : await cursorAt(views.log, position!, views.now());
    await views.log.seekGroup(group, after);
    const state = (await views.log.groupState(group))!;
    await views.record(req, 'group.seek', { group, to }, { floor: state.floor });
    res.json(stateOf(group, state));
  };
}

export function deleteGroup(views: GroupViews): express.RequestHandler {
  return async (req, res) => {
    const group = String(req.params.group);
    if (!(await views.log.deleteGroup(group))) return sendError(res, 404, 'not_found', `the log holds no consumer group "${group.slice(0, 200)}"`);
    await views.record(req, 'group.delete', { group }, { deleted: true });
    res.json({ group, deleted: true });
  };
}

export function listDeadLetters(views: GroupViews): express.RequestHandler {
  return async (req, res) => {
    const group = seenGroup(views, req, res);
    if (group === undefined) return;
    const limit = z.coerce.number().int().min(1).max(1000).default(100).safeParse(req.query.limit);
    if (!limit.success) return sendError(res, 400, 'invalid_limit', 'limit is a whole number from 1 to 1000');
    const letters = await views.log.deadLetters(group, { limit: limit.data });
    res.json({
      group,
      deadLetters: letters.map((d) => ({ event: d.event, deliveryCount: d.deliveryCount, lastError: d.lastError, deadLetteredAt: iso(d.deadLetteredAt) })),
    });
  };
}

/** `POST /groups/:group/dead-letters/requeue|purge` with `{ids}`, `{filter}` or `{all: true}`. */
export function workDeadLetters(views: GroupViews, verb: 'requeue' | 'purge'): express.RequestHandler {
  return async (req, res) => {
    const group = String(req.params.group);
    const body = selectionSchema.safeParse(req.body);
    if (!body.success) return invalid(res, body.error);
    const { ids, filter, limit } = body.data;
    const selection: DeadLetterSelection = { ...(ids ? { ids } : {}), ...(filter ? { filter } : {}), ...(limit ? { limit } : {}) };
    const done = verb === 'requeue' ? await views.log.requeueDeadLetters(group, selection) : await views.log.purgeDeadLetters(group, selection);
    const key = verb === 'requeue' ? 'requeued' : 'purged';
    await views.record(req, `dead_letters.${verb}`, { group, ...body.data }, { [key]: done.length });
    res.json({ group, [key]: done });
  };
}

/**
 * `POST /replay`: events again to one consumer group (`ids`, or the range `after`…`before`),
 * or a webhook subscription moved back so it delivers again from the first of them (and
 * everything after it, in log order, as its delivery always is).
 */
export function replay(views: GroupViews): express.RequestHandler {
  return async (req, res) => {
    const body = replaySchema.safeParse(req.body);
    if (!body.success) return invalid(res, body.error);
    const request = body.data;
    const ids = request.ids ?? (await rangeIds(views, request.after, request.before, request.limit));
    if (typeof ids === 'string') return sendError(res, 400, 'invalid_position', ids);
    if (ids.length === 0) return sendError(res, 404, 'not_found', 'no event in that range');
    if (request.group !== undefined) {
      const replayed = await views.log.replay(request.group, ids);
      await views.record(req, 'replay.group', { group: request.group, ids: ids.length }, { replayed: replayed.length });
      return res.json({ group: request.group, replayed });
    }
    const first = [...ids].sort()[0]!;
    // The sender reads on from a cursor: the last event committed before the first one's millisecond.
    const cursor = await cursorAt(views.log, { time: ulidTime(first) }, views.now());
    if (!(await views.webhooks.update(request.subscription!, { replayFrom: cursor }))) {
      return sendError(res, 404, 'not_found', `no webhook subscription ${request.subscription}`);
    }
    await views.record(req, 'replay.subscription', { subscription: request.subscription, from: first }, { cursor });
    res.json({ subscription: request.subscription, from: first, cursor });
  };
}

/** The ids of the range `after` (exclusive) … `before` (exclusive), at most `limit`; a string says what is wrong. */
async function rangeIds(views: GroupViews, after: string | undefined, before: string | undefined, limit: number): Promise<string[] | string> {
  const from = after === undefined ? undefined : parsePosition(after);
  const to = before === undefined ? undefined : parsePosition(before);
  if ((after !== undefined && from === undefined) || (before !== undefined && to === undefined)) return 'after and before are event ids or ISO 8601 times';
  const cursor = from === undefined ? null : await cursorAt(views.log, from, views.now());
  const page = await views.log.read({ after: cursor, limit });
  return page.events.filter((event) => to === undefined || isBefore(event.id, to)).map((event) => event.id);
}
