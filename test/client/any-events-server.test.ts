import { afterEach, describe, expect, it } from 'vitest';
import type { EventClient } from '../../client/index.js';
import { eventClientFor, legacyOnlyFetch, recorder } from '../support/client-harness.js';
import { CODES, EVENT_NAME, type IndependentEventsServer, type IndependentServerOptions, startIndependentEventsServer } from '../support/independent-events-server.js';
import { Inbox } from '../support/mcp-clients.js';

/**
 * What the client does with an Events server that is not this relay, from the draft's fields
 * alone: the independent server's cursors are random tokens, its poll pages carry no cursor
 * per event, and it says `truncated`, `nextPollMs` and `retryAfterMs` its own way.
 */
const activity = { event: { name: EVENT_NAME } };

/** A fetch that counts the `events/poll` requests sent through it. */
function pollCountingFetch() {
  const polls = new Inbox<number>();
  const counting: typeof fetch = (input, init) => {
    if (typeof init?.body === 'string' && (JSON.parse(init.body) as { method?: string }).method === 'events/poll') polls.push(polls.items.length + 1);
    return fetch(input, init);
  };
  return { fetch: counting, polls };
}

describe('the client against an independent Events server', () => {
  let server: IndependentEventsServer | undefined;
  const clients: EventClient[] = [];
  const start = async (options: IndependentServerOptions = {}) => (server = await startIndependentEventsServer(options));
  const client = (s: IndependentEventsServer, mode: 'push' | 'poll' | 'auto', options: Parameters<typeof eventClientFor>[2] = {}) => {
    const c = eventClientFor({ endpoint: s.url, token: undefined }, mode, options);
    clients.push(c);
    return c;
  };
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await server?.close();
    server = undefined;
  });

  it.each(['push', 'poll'] as const)('%s: reports truncated for a cursor the server never gave, from its fields alone, and delivers from the oldest event held', async (mode) => {
    const s = await start();
    s.publish({ kind: 'note', id: 'retained' });
    const rec = recorder({ ...activity, cursor: 'a-cursor-this-server-never-gave' });
    await client(s, mode).subscribe(rec.options);
    await rec.until(['retained']);
    s.publish({ kind: 'note', id: 'live' });
    await rec.until(['live']);
    expect(rec.delivered.items).toEqual(['retained', 'live']);
    // Push resumes at the fresh cursor of `active`; a poll page that carries events gives none for the gap's end.
    const resumedAt = mode === 'push' ? expect.any(String) : null;
    expect(rec.errors.items).toEqual([{ kind: 'truncated', after: 'a-cursor-this-server-never-gave', resumedAt }]);
  });

  it.each(['push', 'poll'] as const)('%s: reports truncated for a cursor the server gave but whose next events it forgot (retention 2)', async (mode) => {
    const s = await start({ retention: 2 });
    const cursor = s.cursorAfter(s.publish({ kind: 'note', id: 'seen' }).eventId)!;
    for (const id of ['forgotten', 'kept', 'newest']) s.publish({ kind: 'note', id });
    const rec = recorder({ ...activity, cursor });
    await client(s, mode).subscribe(rec.options);
    await rec.until(['kept', 'newest']);
    expect(rec.delivered.items).toEqual(['kept', 'newest']);
    expect(rec.errors.items).toEqual([{ kind: 'truncated', after: cursor, resumedAt: mode === 'push' ? expect.any(String) : null }]);
  });

  it.each(['push', 'poll'] as const)('%s: hands an event published twice under one eventId to onEvent once', async (mode) => {
    const s = await start();
    const rec = recorder(activity);
    await client(s, mode).subscribe(rec.options);
    s.publish({ kind: 'note', id: 'first' }, 'evt_same');
    s.publish({ kind: 'note', id: 'again' }, 'evt_same');
    s.publish({ kind: 'note', id: 'next' });
    await rec.until(['next']);
    expect(rec.delivered.items).toEqual(['first', 'next']);
  });

  it('poll: waits out the retryAfterMs of a -32013 refusal, then delivers', async () => {
    const s = await start({ maxLongPolls: 0, retryAfterMs: 30 });
    const rec = recorder(activity);
    await client(s, 'poll').subscribe(rec.options);
    const refusals = await rec.errors.until((errors) => errors.length >= 2, 'two refused long polls');
    s.publish({ kind: 'note', id: 'after' });
    await rec.until(['after']);
    expect(refusals.slice(0, 2)).toEqual([
      expect.objectContaining({ kind: 'connection', delayMs: 30, cause: expect.objectContaining({ code: CODES.resourceExhausted, data: { limit: 'long_polls', max: 0, retryAfterMs: 30 } }) }),
      expect.objectContaining({ kind: 'connection', delayMs: 30 }),
    ]);
  });

  it('poll: after an answer with nextPollMs, polls no sooner, though an event is waiting', async () => {
    const s = await start({ nextPollMs: 600_000 });
    const counted = pollCountingFetch();
    const rec = recorder(activity);
    // Short polls, which the server answers with its nextPollMs.
    const sub = await client(s, 'poll', { fetch: counted.fetch, pollTimeoutMs: 0 }).subscribe(rec.options);
    // A push subscriber sees the event arrive: by then a client that did not wait had polled again.
    const witness = recorder(activity);
    await client(s, 'push').subscribe(witness.options);
    s.publish({ kind: 'note', id: 'waiting' });
    await witness.until(['waiting']);
    expect(counted.polls.items).toEqual([1]);
    expect(rec.delivered.items).toEqual([]);
    await sub.unsubscribe();
  });

  it('push: ends the subscription with a fatal report when the server terminates it for revoked access', async () => {
    const s = await start();
    const rec = recorder(activity);
    const sub = await client(s, 'push').subscribe(rec.options);
    s.terminateStreams({ code: -32012, message: 'Forbidden', data: { reason: 'Access revoked' } });
    await sub.closed;
    expect(rec.errors.items).toEqual([{ kind: 'fatal', cause: expect.objectContaining({ code: -32012, data: { reason: 'Access revoked' } }) }]);
  });

  it('auto: refuses an event type events/list does not list, as no mode can deliver it', async () => {
    const s = await start();
    await expect(client(s, 'auto').subscribe(recorder({ event: { name: 'unlisted' } }).options)).rejects.toMatchObject({ code: 'no_delivery_mode' });
  });

  it.each(['auto', 'poll'] as const)('%s over a 2025-11-25 session (initialize, Mcp-Session-Id) delivers in order', async (mode) => {
    const s = await start();
    const legacy = legacyOnlyFetch();
    const rec = recorder(activity);
    const sub = await client(s, mode, { fetch: legacy.fetch }).subscribe(rec.options);
    expect(sub.mode).toBe(mode === 'auto' ? 'push' : 'poll');
    for (const id of ['one', 'two', 'three']) s.publish({ kind: 'note', id });
    await rec.until(['one', 'two', 'three']);
    expect(rec.delivered.items).toEqual(['one', 'two', 'three']);
    expect(legacy.versions.filter((v) => v !== null).every((v) => v === '2025-11-25')).toBe(true);
  });
});
