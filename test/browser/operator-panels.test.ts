import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { Relay } from '../../src/app.js';
import { LOG_START, ulidTime } from '../../src/events/ulid.js';
import { CallbackReceiver } from '../support/callback-receiver.js';
import { eventually, ingest, keys, startMcpRelay } from '../support/mcp-clients.js';
import { subscribeTo } from '../support/webhook-rpc.js';
import { collectErrors, enterKey, OUTPUT, suiteBrowser, text, unexpected } from './browser-kit.js';

/** A claim filter nothing matches: the claim only dead-letters what ran out of deliveries. */
const NOTHING = { types: ['no.such.type'] };

/** The operator API as `key` sees it, for checking what the page did. */
async function api(relay: Relay, path: string, key: string = keys.alice): Promise<Record<string, any>> {
  const res = await fetch(`${relay.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, any>;
}

/** Leases `ids`' events to `group` for 1 s and lets the lease run out: with RELAY_MAX_DELIVERIES=1 they are dead letters. */
async function deadLetter(relay: Relay, group: string, ids: string[]): Promise<void> {
  expect((await relay.log.claim(group, { leaseMs: 1000, limit: ids.length })).map((e) => e.id)).toEqual(ids);
  await eventually(async () => {
    await relay.log.claim(group, { filter: NOTHING });
    return (await relay.log.deadLetters(group)).length === ids.length ? true : undefined;
  }, 'the leases to run out');
}

const rowIds = (page: Page, body: string) => page.locator(`#${body} tr`).evaluateAll((rows) => rows.map((row) => row.getAttribute('data-id')));
const enc = encodeURIComponent;

describe('the operator panels in a browser', { timeout: 60_000 }, () => {
  const browser = suiteBrowser();

  /** A relay where alice is the admin and one expired lease makes a dead letter, and a page on it. */
  async function onPage(run: (relay: Relay, page: Page, errors: string[]) => Promise<void>): Promise<void> {
    const relay = await startMcpRelay({ RELAY_ADMIN_PRINCIPALS: 'alice', RELAY_MAX_DELIVERIES: '1', RELAY_WEBHOOK_ALLOW: 'loopback' });
    const page = await browser().newPage({ viewport: { width: 1280, height: 900 } });
    try {
      await run(relay, page, collectErrors(page));
    } finally {
      await page.close();
      await relay.close();
    }
  }

  it('searches the log page by page and opens an event: payload, consumer groups, webhook subscriptions', () =>
    onPage(async (relay, page, errors) => {
      const receiver = await new CallbackReceiver().start();
      try {
        expect((await subscribeTo(relay, receiver, { name: 'payment.failed' })).error).toBeUndefined();
        const group = 'alice/billing';
        await relay.log.createGroup(group, { from: 'now' });
        const payments: string[] = [];
        for (let i = 0; i < 12; i++) payments.push(await ingest(relay, { customerId: `cus_${i}` }));
        const shipped = await ingest(relay, { type: 'order.shipped' });
        await receiver.deliveries.until(() => receiver.accepted().length === 12, 'the payments delivered');
        await deadLetter(relay, group, [payments[0]!]);

        await page.goto(`${relay.url}/dashboard#events`);
        await enterKey(page, keys.alice);
        await page.fill('#search-types', 'payment.*');
        await page.selectOption('#search-limit', '10');
        await page.click('#search-form button[type=submit]');
        await page.locator('#search-page', { hasText: 'page 1 · 10 events' }).waitFor();
        expect(await rowIds(page, 'search-results')).toEqual(payments.slice(0, 10));
        await page.screenshot({ path: `${OUTPUT}/operator-search.png` });
        await page.click('#search-next');
        await page.locator('#search-page', { hasText: 'page 2 · 2 events · end of the log' }).waitFor();
        expect(await rowIds(page, 'search-results')).toEqual(payments.slice(10));
        expect(await page.locator('#search-next').isDisabled()).toBe(true);
        await page.click('#search-prev');
        await page.locator('#search-page', { hasText: 'page 1 · 10 events' }).waitFor();
        expect(await page.locator('#search-prev').isDisabled()).toBe(true);

        // Narrowed by type and by a time: only the shipment, committed after the payments' last millisecond.
        await page.fill('#search-types', 'order.*');
        await page.fill('#search-after', new Date(ulidTime(payments[0]!)).toISOString());
        await page.click('#search-form button[type=submit]');
        await page.locator('#search-page', { hasText: 'page 1 · 1 event · end of the log' }).waitFor();
        expect(await rowIds(page, 'search-results')).toEqual([shipped]);

        // The API's refusal, shown as it words it.
        await page.fill('#search-after', 'yesterday');
        await page.click('#search-form button[type=submit]');
        await page.locator('#search-error', { hasText: 'Refused (400): after must be an event id or an ISO 8601 time' }).waitFor();
        await page.fill('#search-after', '');
        await page.fill('#search-types', 'payment.*');
        await page.click('#search-form button[type=submit]');
        await page.locator('#search-error').waitFor({ state: 'hidden' });

        await page.click(`#search-results tr[data-id="${payments[0]}"]`);
        const drawer = page.locator('#drawer');
        await drawer.locator('#drawer-body').waitFor();
        expect(await text(page, '#drawer-title')).toBe(payments[0]);
        const event = (await relay.log.get(payments[0]!))!;
        expect(await text(page, '#drawer-payload')).toBe(JSON.stringify(event.data, null, 2));
        expect(await drawer.locator('.facts').textContent()).toContain('customercus_0');
        expect(await page.locator('#drawer-groups tr').allTextContents()).toEqual([expect.stringMatching(/^alice\/billingdead1since \d{4}-\d\d-\d\d /)]);
        expect(await page.locator('#drawer-webhooks tr').allTextContents()).toEqual([`payment.failed → ${receiver.url}done`]);
        await page.screenshot({ path: `${OUTPUT}/operator-drawer.png` });
        await page.keyboard.press('Escape');
        await drawer.waitFor({ state: 'hidden' });

        // The live list opens the same drawer.
        await page.click('#tab-overview');
        const live = await ingest(relay, { type: 'order.delivered' });
        await page.click(`#events li[data-id="${live}"]`);
        await page.locator('#drawer-title', { hasText: live }).waitFor();
        await page.locator('#drawer-payload').waitFor();
        expect(await text(page, '#drawer-webhooks')).toBe('none of your webhook subscriptions matches it');
        expect(unexpected(errors, 401, 400)).toEqual([]);
      } finally {
        await receiver.stop();
      }
    }));

  it('requeues dead letters one and all, and seeks a group to the start, an id, a time and now', () =>
    onPage(async (relay, page, errors) => {
      const group = 'alice/billing';
      await relay.log.createGroup(group, { from: 'now' });
      const payments: string[] = [];
      for (let i = 0; i < 4; i++) payments.push(await ingest(relay));
      await deadLetter(relay, group, payments.slice(0, 2));

      await page.goto(`${relay.url}/dashboard#groups`);
      await enterKey(page, keys.alice);
      const row = page.locator(`#group-list tr[data-group="${group}"]`);
      await row.waitFor();
      expect(await row.locator('td').allTextContents()).toEqual([group, expect.stringContaining(payments[1]!), '2', '0', '2', expect.stringContaining(payments[2]!)]);
      await row.locator('button').click();
      await page.locator('#dead-letters tr').nth(1).waitFor();
      expect(await page.locator('#dead-letters [data-requeue]').evaluateAll((buttons) => buttons.map((b) => b.getAttribute('data-requeue')))).toEqual(payments.slice(0, 2));
      expect(await text(page, '#dead-count')).toBe('2');
      await page.screenshot({ path: `${OUTPUT}/operator-dead-letters.png` });

      await page.click(`#dead-letters [data-requeue="${payments[0]}"]`);
      await page.locator('#dead-outcome', { hasText: `Requeued ${payments[0]}: 1 event is pending again in ${group}.` }).waitFor();
      await page.locator('#dead-count', { hasText: /^1$/ }).waitFor();
      const requeued = await api(relay, `/events/${payments[0]}`);
      expect(requeued.deliveries).toEqual([expect.objectContaining({ group, state: 'pending' })]);
      expect(await api(relay, `/groups/${enc(group)}`)).toMatchObject({ deadLettered: 1, oldestPending: payments[0] });

      await page.click('#requeue-all');
      await page.locator('#dead-outcome', { hasText: `Requeued all: 1 event is pending again in ${group}.` }).waitFor();
      await page.locator('#dead-letters td.empty', { hasText: 'no dead letters' }).waitFor();
      expect((await api(relay, `/events/${payments[1]}`)).deliveries).toEqual([expect.objectContaining({ group, state: 'pending' })]);
      expect(await api(relay, `/groups/${enc(group)}`)).toMatchObject({ deadLettered: 0 });
      await row.locator('td.num').nth(2).filter({ hasText: /^0$/ }).waitFor();

      const seek = async (to: string, position = '') => {
        await page.selectOption('#seek-to', to);
        if (position) await page.fill('#seek-position', position);
        await page.click('#seek-form button[type=submit]');
      };
      await seek('start');
      await page.locator('#seek-outcome', { hasText: `Moved ${group} to the start:` }).waitFor();
      expect((await relay.log.groupState(group))!.floor).toBe(LOG_START);
      await row.locator('td', { hasText: /^start$/ }).waitFor();

      await seek('position', payments[2]!);
      await page.locator('#seek-outcome', { hasText: `Moved ${group} to ${payments[2]}:` }).waitFor();
      expect((await relay.log.groupState(group))!.floor).toBe(payments[2]);
      await row.locator('td code', { hasText: payments[2]! }).first().waitFor();

      // A time: the group's floor is the last event committed before it.
      const time = ulidTime(payments[3]!);
      const before = [...payments].reverse().find((id) => ulidTime(id) < time) ?? LOG_START;
      await seek('position', new Date(time).toISOString());
      await page.locator('#seek-outcome', { hasText: `Moved ${group} to ${before === LOG_START ? 'the start' : before}:` }).waitFor();
      expect((await relay.log.groupState(group))!.floor).toBe(before);

      const head = (await relay.log.head())!;
      await seek('now');
      await page.locator('#seek-outcome', { hasText: `Moved ${group} to ${head}: 0 pending.` }).waitFor();
      expect((await relay.log.groupState(group))!.floor).toBe(head);
      await page.screenshot({ path: `${OUTPUT}/operator-seek.png` });

      await seek('position', 'later');
      await page.locator('#seek-outcome.problem', { hasText: 'Refused (400): to is start, now, an event id or an ISO 8601 time' }).waitFor();
      expect((await relay.log.groupState(group))!.floor).toBe(head);
      expect(unexpected(errors, 401, 400)).toEqual([]);
    }));

  it('shows a non-admin the 403 as the API words it, and changes nothing', () =>
    onPage(async (relay, page, errors) => {
      const group = 'bob/jobs';
      await relay.log.createGroup(group, { from: 'now' });
      await relay.log.createGroup('alice/billing', { from: 'now' });
      const id = await ingest(relay);
      await deadLetter(relay, group, [id]);

      await page.goto(`${relay.url}/dashboard#groups`);
      await enterKey(page, keys.bob);
      await page.locator(`#group-list tr[data-group="${group}"] button`).click();
      // Bob sees his own group only.
      expect(await page.locator('#group-list tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-group')))).toEqual([group]);
      await page.click(`#dead-letters [data-requeue="${id}"]`);
      const forbidden = 'Refused (403): admin writes need a principal listed in RELAY_ADMIN_PRINCIPALS; nothing was changed';
      await page.locator('#dead-outcome.problem', { hasText: forbidden }).waitFor();
      await page.click('#requeue-all');
      await page.locator('#dead-outcome.problem', { hasText: forbidden }).waitFor();
      await page.selectOption('#seek-to', 'start');
      await page.click('#seek-form button[type=submit]');
      await page.locator('#seek-outcome.problem', { hasText: forbidden }).waitFor();
      await page.screenshot({ path: `${OUTPUT}/operator-forbidden.png` });
      expect((await relay.log.deadLetters(group)).map((d) => d.event.id)).toEqual([id]);
      expect(await api(relay, `/groups/${enc(group)}`, keys.bob)).toMatchObject({ deadLettered: 1, floor: id });
      expect(unexpected(errors, 401, 403)).toEqual([]);
    }));
});
