import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { text } from 'node:stream/consumers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/app.js';
import { ulidTime } from '../../src/events/ulid.js';
import { CallbackReceiver } from '../support/callback-receiver.js';
import { Inbox, eventually, ingest, keys, startMcpRelay } from '../support/mcp-clients.js';
import { exited, runCli } from '../support/relay-process.js';
import { subscribeTo } from '../support/webhook-rpc.js';

/** The real CLI to its end, as alice (the admin) unless `env` says otherwise; times print in UTC. */
async function cli(args: string[], env: Record<string, string> = {}) {
  const child = runCli(args, { RELAY_TOKEN: keys.alice, TZ: 'UTC', ...env });
  const [stdout, stderr, code] = await Promise.all([text(child.stdout!), text(child.stderr!), exited(child)]);
  return { code, stdout, stderr };
}

/** A table's lines as cells (columns are two or more spaces apart). */
const rows = (stdout: string) => stdout.trimEnd().split('\n').map((line) => line.split(/ {2,}/));
/** `2026-12-07 10:00:00`: an ISO time as the tables print it in UTC. */
const readable = (iso: string) => iso.slice(0, 19).replace('T', ' ');
const oneLine = (stderr: string) => stderr.trimEnd().split('\n');
const WEBHOOKS = { sources: ['standard'] };
const UNKNOWN_ID = '01ARZ3NDEKTSV4RRFFQ69G5FAV';

// Every step starts the CLI through tsx (about a second each on a busy machine).
describe('the operator commands: events, groups, dlq, replay', { timeout: 60_000 }, () => {
  let relay: Relay;
  const at = (args: string[], env: Record<string, string> = {}) => cli([...args, '--url', relay.url], env);
  const api = async (path: string) => (await fetch(`${relay.url}${path}`, { headers: { authorization: `Bearer ${keys.alice}` } })).text();
  /** Leases the next event of `group` for 1 s and lets it run out, which dead-letters it (RELAY_MAX_DELIVERIES=1). */
  const deadLetter = async (group: string) => {
    const [claimed] = await relay.log.claim(group, { leaseMs: 1000, filter: WEBHOOKS });
    await eventually(async () => (Date.now() > claimed!.leaseExpiresAt && (await relay.log.claim(group, { filter: WEBHOOKS })).length === 0 ? true : undefined), 'the lease to run out');
    return claimed!.id;
  };
  beforeAll(async () => {
    relay = await startMcpRelay({ RELAY_ADMIN_PRINCIPALS: 'alice', RELAY_MAX_DELIVERIES: '1', RELAY_WEBHOOK_ALLOW: 'loopback', RELAY_WEBHOOK_RETRY: '50ms' });
  });
  afterAll(() => relay.close());

  it('events list: a table of the log, narrowed by types and positions, a page at a time or --all; --json is the API answer', async () => {
    const start = new Date().toISOString();
    const ids = [await ingest(relay), await ingest(relay, { type: 'order.created' }), await ingest(relay), await ingest(relay)];
    const [table, orders, between, page, all, json, lastHour] = await Promise.all([
      at(['events', 'list', '--after', start]),
      at(['events', 'list', '--after', start, '--types', 'order.*']),
      at(['events', 'list', '--after', ids[0]!, '--before', ids[3]!]),
      at(['events', 'list', '--after', start, '--limit', '2']),
      at(['events', 'list', '--after', start, '--limit', '1', '--all', '--json']),
      at(['events', 'list', '--after', start, '--limit', '2', '--json']),
      at(['events', 'list', '--after', '1h', '--types', 'payment.failed', '--all']),
    ]);
    const first = await relay.log.get(ids[0]!);
    expect(table.code).toBe(0);
    expect(rows(table.stdout)[0]).toEqual(['RECEIVED', 'TYPE', 'SUBJECT', 'SOURCE', 'ID']);
    expect(rows(table.stdout)[1]).toEqual([readable(first!.receivedAt), 'payment.failed', 'customer:cus_test', 'standard', ids[0]]);
    expect(rows(table.stdout).slice(1).map((row) => row[4])).toEqual(ids);
    expect(rows(orders.stdout).slice(1).map((row) => [row[1], row[4]])).toEqual([['order.created', ids[1]]]);
    expect(rows(between.stdout).slice(1).map((row) => row[4])).toEqual(ids.slice(1, 3));
    expect(rows(page.stdout).slice(1).map((row) => row[4])).toEqual(ids.slice(0, 2));
    expect(page.stderr).toBe(`more events follow: --after ${ids[1]}\n`);
    expect(JSON.parse(all.stdout)).toMatchObject({ events: ids.map((id) => ({ id })), nextCursor: null, truncated: false });
    expect(json.stdout).toBe(`${await api(`/events?after=${encodeURIComponent(start)}&limit=2`)}\n`);
    expect(rows(lastHour.stdout).slice(1).map((row) => row[4])).toEqual(expect.arrayContaining([ids[0], ids[2], ids[3]]));
    expect((await at(['events', 'list', '--after', ids[3]!])).stdout).toBe('no events\n');
  });

  it('events get: the event, then its state in each group and webhook subscription; --json; an unknown id is the 404 reason on one line, exit 1', async () => {
    await relay.log.createGroup('alice/get', { from: 'now' });
    const id = await ingest(relay);
    const [shown, json, missing] = await Promise.all([at(['events', 'get', id]), at(['events', 'get', id, '--json']), at(['events', 'get', UNKNOWN_ID])]);
    expect(shown.code).toBe(0);
    const lines = shown.stdout.split('\n');
    expect(lines.slice(0, 4)).toEqual([`id        ${id}`, 'type      payment.failed', expect.stringMatching(/^source {4}standard \(payment\.failed, msg_/), 'subject   customer:cus_test']);
    expect(lines).toContain('data      {"customer_id":"cus_test","note":""}');
    expect(rows(shown.stdout.split('\n\n')[1]!)).toEqual([
      ['GROUP', 'STATE', 'DELIVERIES', 'LEASE EXPIRES', 'DEAD-LETTERED'],
      ['alice/get', 'pending', '0', '-', '-'],
    ]);
    expect(shown.stdout.split('\n\n')[2]).toBe('webhook subscriptions: none of yours matches it\n');
    expect(JSON.parse(json.stdout)).toEqual(JSON.parse(await api(`/events/${id}`)));
    expect(missing).toEqual({ code: 1, stdout: '', stderr: `mcp-event-relay events get: the log holds no event ${UNKNOWN_ID} (never, or trimmed by retention) (404 not_found)\n` });
  });

  it('groups list, show, seek --to 1h and delete; a non-admin is told the write needs an admin, and nothing changes', async () => {
    const group = 'alice/seek';
    const before = await ingest(relay);
    await relay.log.createGroup(group, { from: 'now' });
    const [listed, asBob, shown, json, refused] = await Promise.all([
      at(['groups', 'list']),
      at(['groups', 'list'], { RELAY_TOKEN: keys.bob }),
      at(['groups', 'show', group]),
      at(['groups', 'show', group, '--json']),
      at(['groups', 'seek', group, '--to', 'start'], { RELAY_TOKEN: keys.bob }),
    ]);
    expect(rows(listed.stdout)[0]).toEqual(['GROUP', 'PENDING', 'LEASED', 'DEAD', 'FLOOR', 'NEXT']);
    expect(rows(listed.stdout)).toContainEqual([group, '0', '0', '0', before, '-']);
    expect(asBob.stdout).not.toContain(group);
    expect(shown.stdout).toBe(`group          ${group}\npending        0\nleased         0\ndead-lettered  0\nfloor          ${before}\nnext           -\n`);
    expect(json.stdout).toBe(`${await api(`/groups/${encodeURIComponent(group)}`)}\n`);
    expect(refused.code).toBe(1);
    expect(oneLine(refused.stderr)).toEqual([
      'mcp-event-relay groups seek: needs an admin: admin writes need a principal listed in RELAY_ADMIN_PRINCIPALS; nothing was changed (403 forbidden)',
    ]);
    expect((await relay.log.groupState(group))?.floor).toBe(before);

    const sought = await at(['groups', 'seek', group, '--to', '1h']);
    expect(sought.code).toBe(0);
    expect(sought.stdout).toMatch(/^moved alice\/seek to 1h \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\)\ngroup {10}alice\/seek\npending {8}[1-9]/);
    expect((await relay.log.claim(group, { limit: 100 })).map((e) => e.id)).toContain(before);
    expect(JSON.parse((await at(['groups', 'seek', group, '--to', 'now', '--json'])).stdout)).toMatchObject({ group, pending: 0 });
    expect(await at(['groups', 'delete', group])).toEqual({ code: 0, stdout: `deleted consumer group ${group}\n`, stderr: '' });
    const [again, gone] = await Promise.all([at(['groups', 'delete', group]), at(['groups', 'show', group])]);
    expect(again).toMatchObject({ code: 1, stderr: `mcp-event-relay groups delete: the log holds no consumer group "${group}" (404 not_found)\n` });
    expect(gone).toMatchObject({ code: 1, stderr: `mcp-event-relay groups show: the log holds no consumer group "${group}" (404 not_found)\n` });
  });

  it('dlq list shows each dead letter with its error; requeue and purge by ids, types or all, admins only', async () => {
    const group = 'alice/dlq';
    await relay.log.createGroup(group, { from: 'now' });
    await ingest(relay);
    const id = await deadLetter(group);
    const [listed, json, refused] = await Promise.all([
      at(['dlq', 'list', group]),
      at(['dlq', 'list', group, '--json']),
      at(['dlq', 'requeue', group, '--ids', id], { RELAY_TOKEN: keys.bob }),
    ]);
    const [letter] = await relay.log.deadLetters(group);
    expect(rows(listed.stdout)).toEqual([
      ['ID', 'TYPE', 'DELIVERIES', 'DEAD-LETTERED', 'ERROR'],
      [id, 'payment.failed', '1', readable(new Date(letter!.deadLetteredAt).toISOString()), 'lease expired after 1 delivery'],
    ]);
    expect(json.stdout).toBe(`${await api(`/groups/${encodeURIComponent(group)}/dead-letters`)}\n`);
    expect(refused).toMatchObject({ code: 1, stderr: expect.stringMatching(/^mcp-event-relay dlq requeue: needs an admin: .* \(403 forbidden\)\n$/) });

    expect(await at(['dlq', 'requeue', group, '--ids', id])).toEqual({ code: 0, stdout: `requeued 1 dead letter of ${group}\n  ${id}\n`, stderr: '' });
    expect(await deadLetter(group)).toBe(id);
    expect((await at(['dlq', 'purge', group, '--types', 'payment.*'])).stdout).toBe(`purged 1 dead letter of ${group}\n  ${id}\n`);
    expect((await at(['dlq', 'list', group])).stdout).toBe(`no dead letters in ${group}\n`);
    expect(JSON.parse((await at(['dlq', 'requeue', group, '--all', '--json'])).stdout)).toEqual({ group, requeued: [] });
  });

  it('replay: events again to a group by ids or a range, a webhook subscription from an event on; an unknown subscription is a 404', async () => {
    const group = 'alice/replay';
    await relay.log.createGroup(group, { from: 'now' });
    const from = new Date().toISOString();
    const ids = [await ingest(relay), await ingest(relay)];
    await eventually(async () => (Date.now() > ulidTime(ids[1]!) ? true : undefined), 'the next millisecond');
    const to = new Date().toISOString();
    await relay.log.ack(group, (await relay.log.claim(group, { filter: WEBHOOKS })).map((e) => e.id));
    expect(await at(['replay', '--group', group, '--ids', ids[0]!])).toEqual({ code: 0, stdout: `replayed 1 event to ${group}\n  ${ids[0]}\n`, stderr: '' });
    expect((await relay.log.claim(group, { filter: WEBHOOKS })).map((e) => e.id)).toEqual([ids[0]]);
    expect(JSON.parse((await at(['replay', '--group', group, '--after', from, '--before', to, '--json'])).stdout)).toEqual({ group, replayed: ids });
    const unknown = await at(['replay', '--subscription', `sub_${'0'.repeat(32)}`, '--ids', ids[0]!]);
    expect(unknown).toMatchObject({ code: 1, stderr: `mcp-event-relay replay: no webhook subscription sub_${'0'.repeat(32)} (404 not_found)\n` });

    const receiver = await new CallbackReceiver().start();
    try {
      const { result } = await subscribeTo(relay, receiver, { name: 'order.shipped' });
      const shipped = await ingest(relay, { type: 'order.shipped' });
      await receiver.deliveries.until(() => receiver.accepted().includes(shipped), 'the delivery');
      const replayed = await at(['replay', '--subscription', result!.id, '--ids', shipped]);
      expect(replayed.stdout).toMatch(new RegExp(`^${result!.id} delivers again from ${shipped} on \\(its cursor is now [0-9A-Z]{26}\\)\\n$`));
      await receiver.deliveries.until((items) => items.filter((d) => d.body.eventId === shipped).length === 2, 'the delivery again');
    } finally {
      await receiver.stop();
    }
  });

  it('--help on every command and subcommand', async () => {
    const helps = [['events'], ['events', 'list'], ['events', 'get'], ['groups'], ['groups', 'list'], ['groups', 'show'], ['groups', 'seek'], ['groups', 'delete'], ['dlq'], ['dlq', 'list'], ['dlq', 'requeue'], ['dlq', 'purge'], ['replay']];
    const answers = await Promise.all(helps.map((words) => cli([...words, '--help'])));
    answers.forEach((answer, i) => {
      expect(answer.code).toBe(0);
      expect(answer.stderr).toBe('');
      expect(answer.stdout).toMatch(new RegExp(`^usage: mcp-event-relay ${helps[i]!.join(' ')}\\s`));
      expect(answer.stdout).toContain('--token T        the relay\'s API key (default: RELAY_TOKEN)');
    });
    expect(answers[0]!.stdout).toContain('mcp-event-relay events list [--after P]');
    expect(answers[6]!.stdout).toContain('--to 1h receives again everything');
    expect((await cli(['--help'])).stdout).toContain('events list|get, groups list|show|seek|delete, dlq list|requeue|purge, replay');
  });

  it('a command line it cannot run exits 2 with one line, before asking the relay', async () => {
    const nowhere = ['--url', 'http://127.0.0.1:9'];
    const cases: [string[], string][] = [
      [['events'], 'mcp-event-relay events: needs a subcommand: list, get (see mcp-event-relay events --help)'],
      [['events', 'tail'], 'mcp-event-relay events: has no subcommand "tail"; it has list, get (see mcp-event-relay events --help)'],
      [['events', 'list', '--colour', 'red'], "mcp-event-relay events list: Unknown option '--colour' (see mcp-event-relay events list --help)"],
      [['events', 'list', '--limit', 'ten'], 'mcp-event-relay events list: --limit must be a whole number above 0, not "ten" (see mcp-event-relay events list --help)'],
      [['events', 'list', '--after', 'yesterday'], 'mcp-event-relay events list: --after must be an event id, an ISO 8601 time with its offset (2026-12-07T10:00:00Z) or a time ago (30m, 1h, 7d), not "yesterday" (see mcp-event-relay events list --help)'],
      [['events', 'get'], 'mcp-event-relay events get: takes <id> (see mcp-event-relay events get --help)'],
      [['events', 'get', 'nope'], 'mcp-event-relay events get: <id> is an event id (a 26-character ULID), not "nope" (see mcp-event-relay events get --help)'],
      [['groups', 'seek', 'g'], 'mcp-event-relay groups seek: --to is required: start, now, an event id or a time (see mcp-event-relay groups seek --help)'],
      [['groups', 'seek', 'g', '--to', 'later'], 'mcp-event-relay groups seek: --to must be an event id, an ISO 8601 time with its offset (2026-12-07T10:00:00Z) or a time ago (30m, 1h, 7d), not "later" (see mcp-event-relay groups seek --help)'],
      [['dlq', 'requeue', 'g'], 'mcp-event-relay dlq requeue: give exactly one of --ids, a filter (--types, --sources, --subjects) or --all (see mcp-event-relay dlq requeue --help)'],
      [['dlq', 'purge', 'g', '--ids', 'x', '--all'], 'mcp-event-relay dlq purge: --ids takes event ids (26-character ULIDs), not "x" (see mcp-event-relay dlq purge --help)'],
      [['replay', '--ids', UNKNOWN_ID], 'mcp-event-relay replay: give exactly one of --group and --subscription (see mcp-event-relay replay --help)'],
      [['replay', '--group', 'g'], 'mcp-event-relay replay: give --ids, or a range: --after and/or --before (see mcp-event-relay replay --help)'],
    ];
    const answers = await Promise.all(cases.map(([args]) => cli([...args, ...nowhere])));
    expect(answers).toEqual(cases.map(([, line]) => ({ code: 2, stdout: '', stderr: `${line}\n` })));
  });

  it('a refused key or an unreachable relay exits 1 with one line', async () => {
    const [refused, unreachable] = await Promise.all([at(['groups', 'list'], { RELAY_TOKEN: 'not-a-key-0123456789' }), cli(['events', 'list', '--url', 'http://127.0.0.1:9'])]);
    expect(refused).toEqual({ code: 1, stdout: '', stderr: 'mcp-event-relay groups list: the bearer token is not valid (401 unauthorized)\n' });
    expect(unreachable).toMatchObject({ code: 1, stderr: expect.stringMatching(/^mcp-event-relay events list: cannot reach http:\/\/127\.0\.0\.1:9: .+\n$/) });
  });
});

describe('tail --from', () => {
  let relay: Relay;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    relay = await startMcpRelay();
  });
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  });
  afterAll(() => relay.close());
  /** `tail --json` as a child, its stdout as ids once it has started. */
  const tail = async (args: string[]) => {
    const child = runCli(['tail', '--url', relay.url, '--json', '--types', 'payment.failed', ...args], { RELAY_TOKEN: keys.alice, RELAY_CLIENT_MODE: '' });
    children.push(child);
    const ids = new Inbox<string>();
    const stderr = new Inbox<string>();
    createInterface({ input: child.stdout! }).on('line', (line) => ids.push((JSON.parse(line) as { id: string }).id));
    createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
    await stderr.until((lines) => lines.some((line) => line.startsWith('tail: push mode')), 'the start line');
    return ids;
  };

  it('after an event id, or from a time on (the first event then printed, the rest followed), live events after', async () => {
    const a = await ingest(relay);
    await eventually(async () => (Date.now() > ulidTime(a) ? true : undefined), 'the next millisecond');
    const time = new Date().toISOString();
    const later = [await ingest(relay), await ingest(relay, { type: 'order.created' }), await ingest(relay)];
    const [afterId, fromTime] = await Promise.all([tail(['--from', a]), tail(['--from', time])]);
    const live = await ingest(relay);
    const expected = [later[0], later[2], live];
    await afterId.until((ids) => ids.length >= 3, 'three events');
    await fromTime.until((ids) => ids.length >= 3, 'three events');
    expect(afterId.items).toEqual(expected);
    expect(fromTime.items).toEqual(expected);
  });

  it('from a time nothing was committed after yet: it follows from the head, missing nothing', async () => {
    const last = await ingest(relay);
    await eventually(async () => (Date.now() > ulidTime(last) ? true : undefined), 'the next millisecond');
    const ids = await tail(['--from', new Date().toISOString()]);
    const next = await ingest(relay);
    await ids.until((items) => items.length >= 1, 'the next event');
    expect(ids.items).toEqual([next]);
  });

  it('refuses --from in tools mode and a --from it cannot read, exit 2', async () => {
    const [tools, unreadable] = await Promise.all([cli(['tail', '--url', relay.url, '--mode', 'tools', '--from', '1h']), cli(['tail', '--url', relay.url, '--from', 'soon'])]);
    expect(tools.code).toBe(2);
    expect(tools.stderr).toMatch(/^mcp-event-relay: --from needs push or poll mode: tools mode starts where its consumer group stands \(move it with groups seek\)\n/);
    expect(unreadable.code).toBe(2);
    expect(unreadable.stderr).toMatch(/^mcp-event-relay: --from must be an event id, an ISO 8601 time/);
  });
});
