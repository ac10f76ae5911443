import { segment } from './operator-api.js';
import { counted, type DeadLetterList, formatDeadLetters, formatGroup, formatGroups, formatIds, type GroupState, readableTime } from './operator-format.js';
import { FILTER_FLAGS, FlagError, type FlagValues, type Subcommand, filterFlags, idsFlag, limitFlag, positionFlag, stringFlag } from './operator-spec.js';
import { POSITION_HELP, positionText } from './position-flag.js';

/** `groups …`, `dlq …` and `replay`: seeing and moving consumer groups, their dead letters, replays. */

const ADMIN = 'Needs an admin: a principal listed in RELAY_ADMIN_PRINCIPALS.';

const list: Subcommand = {
  synopsis: 'groups list',
  summary: 'the consumer groups you may see, with their counts',
  help: `The consumer groups you may see (GET /groups): your principal's own, every one for an admin.
One line each: pending (not yet acknowledged, leased ones included), leased, dead-lettered,
the floor (every event at or before it is done) and the next event a claim would lease.`,
  flags: {},
  args: [],
  run: async (_input, request) => {
    const answer = await request<{ groups: GroupState[] }>('GET', '/groups');
    return { text: formatGroups(answer.body.groups), json: answer.text };
  },
};

const show: Subcommand = {
  synopsis: 'groups show <group>',
  summary: 'one consumer group',
  help: 'One consumer group (GET /groups/<group>): what groups list shows of it, one field a line.',
  flags: {},
  args: ['group'],
  run: async ({ args }, request) => {
    const answer = await request<GroupState>('GET', `/groups/${segment(args[0]!)}`);
    return { text: formatGroup(answer.body), json: answer.text };
  },
};

const seek: Subcommand = {
  synopsis: 'groups seek <group> --to start|now|P',
  summary: 'move a group: it receives every event after the position again',
  help: `Moves a consumer group (POST /groups/<group>/seek): every event after the position is
pending again, with a fresh delivery count; dead letters at or before it stay.
${ADMIN}

  --to start   the beginning of the retained log
  --to now     the head: only events committed from now on
  --to P       after that event id, or from that time on: --to 1h receives again everything
               of the last hour

${POSITION_HELP}`,
  flags: { to: { type: 'string' } },
  args: ['group'],
  run: async ({ flags, args, now }, request) => {
    const to = stringFlag(flags, 'to');
    if (to === undefined) throw new FlagError('--to is required: start, now, an event id or a time');
    const target = to === 'start' || to === 'now' ? to : positionText(positionFlag(flags, 'to', now)!);
    const group = args[0]!;
    const answer = await request<GroupState>('POST', `/groups/${segment(group)}/seek`, { to: target });
    return { text: `moved ${group} to ${to === target ? to : `${to} (${readableTime(target)})`}\n${formatGroup(answer.body)}`, json: answer.text };
  },
};

const remove: Subcommand = {
  synopsis: 'groups delete <group>',
  summary: 'forget a consumer group entirely',
  help: `Forgets a consumer group (DELETE /groups/<group>): its position, leases and dead letters. A
claim in that name later starts a new group.
${ADMIN}`,
  flags: {},
  args: ['group'],
  run: async ({ args }, request) => {
    const group = args[0]!;
    const answer = await request<{ group: string }>('DELETE', `/groups/${segment(group)}`);
    return { text: `deleted consumer group ${group}`, json: answer.text };
  },
};

/** `--ids`, a filter, or `--all`: which dead letters a requeue or purge takes, exactly one of them. */
function selection(flags: FlagValues): Record<string, unknown> {
  const ids = idsFlag(flags);
  const filter = filterFlags(flags);
  const all = flags.all === true;
  const given = [ids, filter, all || undefined].filter((part) => part !== undefined).length;
  if (given !== 1) throw new FlagError('give exactly one of --ids, a filter (--types, --sources, --subjects) or --all');
  const limit = limitFlag(flags);
  return { ...(ids && { ids }), ...(filter && { filter }), ...(all && { all }), ...(limit && { limit }) };
}

const SELECTION_HELP = `  --ids a,b        these dead letters, by event id
  --types a,b      every dead letter of these types (globs such as payment.*); with
  --sources a,b    --sources and --subjects, those matching all that are given
  --subjects a,b
  --all            every dead letter
  --limit N        at most N of them (the relay allows up to 1000, its default)`;

function deadLetterWork(verb: 'requeue' | 'purge'): Subcommand {
  const done = verb === 'requeue' ? 'requeued' : 'purged';
  return {
    synopsis: `dlq ${verb} <group> (--ids a,b | --types a,b | --all)`,
    summary: verb === 'requeue' ? 'make dead letters pending again' : 'drop dead letters for good',
    help: `${
      verb === 'requeue'
        ? 'Makes dead letters pending again (POST /groups/<group>/dead-letters/requeue): the next\nclaims lease them, in log order, as delivery 1.'
        : 'Drops dead letters for good (POST /groups/<group>/dead-letters/purge): they are not\ndelivered again.'
    } Prints the ids it ${done}.
${ADMIN}

${SELECTION_HELP}`,
    flags: { ids: { type: 'string' }, ...FILTER_FLAGS, all: { type: 'boolean' }, limit: { type: 'string' } },
    args: ['group'],
    run: async ({ flags, args }, request) => {
      const group = args[0]!;
      const answer = await request<Record<string, string[]>>('POST', `/groups/${segment(group)}/dead-letters/${verb}`, selection(flags));
      const ids = answer.body[done] ?? [];
      return { text: formatIds(`${done} ${counted(ids.length, 'dead letter')} of ${group}`, ids), json: answer.text };
    },
  };
}

const deadLetters: Subcommand = {
  synopsis: 'dlq list <group> [--limit N]',
  summary: "a group's dead letters, each with its last error",
  help: `A consumer group's dead letters, oldest first (GET /groups/<group>/dead-letters): the events
it gave up on after RELAY_MAX_DELIVERIES deliveries, each with its delivery count, when it was
dead-lettered and its last error.

  --limit N        at most N (the relay allows 1 to 1000; default 100)`,
  flags: { limit: { type: 'string' } },
  args: ['group'],
  run: async ({ flags, args }, request) => {
    const limit = limitFlag(flags);
    const answer = await request<DeadLetterList>('GET', `/groups/${segment(args[0]!)}/dead-letters${limit ? `?limit=${limit}` : ''}`);
    return { text: formatDeadLetters(answer.body), json: answer.text };
  },
};

const replay: Subcommand = {
  synopsis: 'replay (--group G | --subscription S) (--ids a,b | --after P --before P)',
  summary: 'events again to a consumer group or a webhook subscription',
  help: `Delivers events again (POST /replay).
${ADMIN}

To a consumer group: the events given are pending again whatever their state (acked, dead,
leased, or before the group's floor); it prints their ids. To a webhook subscription: it
moves back and delivers again from the first of them on, in log order, with the same
webhook-ids (a receiver that deduplicates drops what it already has).

  --group G             the consumer group
  --subscription S      the webhook subscription: its id (sub_…), as events/subscribe gave it
  --ids a,b             these events, by id
  --after P             the events after P …
  --before P            … and before P (either one, or both)
  --limit N             at most N events of the range (the relay allows up to 1000, its default)

${POSITION_HELP}`,
  flags: { group: { type: 'string' }, subscription: { type: 'string' }, ids: { type: 'string' }, after: { type: 'string' }, before: { type: 'string' }, limit: { type: 'string' } },
  args: [],
  run: async ({ flags, now }, request) => {
    const group = stringFlag(flags, 'group');
    const subscription = stringFlag(flags, 'subscription');
    if ((group === undefined) === (subscription === undefined)) throw new FlagError('give exactly one of --group and --subscription');
    const ids = idsFlag(flags);
    const after = positionFlag(flags, 'after', now);
    const before = positionFlag(flags, 'before', now);
    if ((ids === undefined) === (after === undefined && before === undefined)) throw new FlagError('give --ids, or a range: --after and/or --before');
    const limit = limitFlag(flags);
    const body = {
      ...(group !== undefined ? { group } : { subscription }),
      ...(ids && { ids }),
      ...(after && { after: positionText(after) }),
      ...(before && { before: positionText(before) }),
      ...(limit && { limit }),
    };
    const answer = await request<{ replayed?: string[]; from?: string; cursor?: string }>('POST', '/replay', body);
    const { replayed, from, cursor } = answer.body;
    const text = replayed ? formatIds(`replayed ${counted(replayed.length, 'event')} to ${group}`, replayed) : `${subscription} delivers again from ${from} on (its cursor is now ${cursor})`;
    return { text, json: answer.text };
  },
};

/** The `groups` command's subcommands. */
export const GROUPS_SUBCOMMANDS: Record<string, Subcommand> = { list, show, seek, delete: remove };

/** The `dlq` command's subcommands. */
export const DLQ_SUBCOMMANDS: Record<string, Subcommand> = { list: deadLetters, requeue: deadLetterWork('requeue'), purge: deadLetterWork('purge') };

/** `replay`, a command without subcommands. */
export const REPLAY_COMMAND: Subcommand = replay;
