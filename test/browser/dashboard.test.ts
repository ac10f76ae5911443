import { describe, expect, it } from 'vitest';
import type { Relay } from '../../src/app.js';
import { loadSample, type SampleName } from '../../src/ingest/samples.js';
import { CallbackReceiver } from '../support/callback-receiver.js';
import { ingest, keys, startMcpRelay } from '../support/mcp-clients.js';
import { routeOfSample, startTestRelay, testSecrets } from '../support/relay.js';
import { oracleSign } from '../support/webhook-oracles.js';
import { subscribeTo } from '../support/webhook-rpc.js';
import { collectErrors, enterKey, OUTPUT, suiteBrowser, text, unexpected } from './browser-kit.js';

/** Plays a shipped sample at the relay, signed now by the provider's own library; returns the event id. */
async function sendWebhook(relay: Relay, name: SampleName, upstreamId: string): Promise<string> {
  const sample = loadSample(name);
  const body = JSON.stringify({ ...(sample.body as object), id: upstreamId });
  const route = routeOfSample[name];
  const headers = await oracleSign(sample.provider, body, testSecrets[route], Date.now(), { ...sample.headers, 'content-type': 'application/json' });
  const res = await fetch(`${relay.url}/webhooks/${route}`, { method: 'POST', body, headers });
  expect(res.status).toBe(200);
  return ((await res.json()) as { id: string }).id;
}

describe('/dashboard in a browser', { timeout: 60_000 }, () => {
  const browser = suiteBrowser();

  it('shows a webhook live, moves the counters, logs no error, and is captured in test-output/', async () => {
    const relay = await startTestRelay({ RELAY_REACTIONS: 'on' });
    const page = await browser().newPage({ viewport: { width: 1280, height: 800 } });
    const errors = collectErrors(page);
    try {
      const response = await page.goto(`${relay.url}/dashboard`);
      expect(response?.status()).toBe(200);
      expect(response?.headers()['content-security-policy']).toMatch(/^default-src 'self'/);
      await page.locator('#feed-state', { hasText: 'feed: live' }).waitFor();
      await page.locator('#health', { hasText: 'ok' }).waitFor();
      expect(await text(page, '#received')).toBe('0');

      const id = await sendWebhook(relay, 'payment_failed', 'evt_dashboard_1');
      const row = page.locator(`#events li[data-id="${id}"]`);
      await row.waitFor();
      expect(await row.textContent()).toMatch(/payment\.failed.*stripe.*customer:/);
      await page.locator('#received', { hasText: /^1$/ }).waitFor();

      await sendWebhook(relay, 'order_shipped', 'evt_dashboard_2');
      await sendWebhook(relay, 'ticket_escalated', 'evt_dashboard_3');
      await page.locator('#received', { hasText: /^3$/ }).waitFor();
      // The reactions' derived events come through the same feed.
      await page.locator('#events li .type', { hasText: 'outreach.requested' }).waitFor();
      expect(Number(await text(page, '#live-count'))).toBeGreaterThanOrEqual(4);
      await page.locator('#handlers td', { hasText: 'relay/payment-failed' }).first().waitFor();
      // The samples happened in 2023: past the latency bins, so the page says overflow, not a number.
      expect(await text(page, '#delivery-p95')).toBe('overflow');
      expect(await text(page, '#latency-detail')).toMatch(/^p50 overflow · /);

      await page.screenshot({ path: `${OUTPUT}/dashboard.png` });
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.screenshot({ path: `${OUTPUT}/dashboard-dark.png` });
      expect(errors).toEqual([]);
    } finally {
      await page.close();
      await relay.close();
    }
  });

  it('turns the drop rate red and names the offenders when an event goes unprocessed past the deadline', async () => {
    const relay = await startTestRelay({ RELAY_DROP_DEADLINE_S: '1' });
    const page = await browser().newPage({ viewport: { width: 1280, height: 800 } });
    const errors = collectErrors(page);
    try {
      await page.goto(`${relay.url}/dashboard`);
      await page.locator('#health', { hasText: 'ok' }).waitFor();
      expect(await page.locator('#alert').isHidden()).toBe(true);
      await sendWebhook(relay, 'payment_failed', 'evt_dashboard_dropped');
      await page.locator('#health', { hasText: 'ALERT' }).waitFor();
      expect(await page.locator('#alert').textContent()).toContain('stripe payment.failed: 1 dropped');
      expect(await page.locator('#drop-tile').getAttribute('class')).toContain('alerting');
      await page.screenshot({ path: `${OUTPUT}/dashboard-alert.png` });
      expect(errors).toEqual([]);
    } finally {
      await page.close();
      await relay.close();
    }
  });

  it('shows webhook delivery: subscriptions, deliveries, latency and failures by category', async () => {
    const relay = await startMcpRelay({ RELAY_WEBHOOK_ALLOW: 'loopback', RELAY_WEBHOOK_RETRY: '50ms,50ms' });
    const healthy = await new CallbackReceiver().start();
    const failing = await new CallbackReceiver().start();
    failing.script = ({ body }) => (body.type === undefined ? 503 : 200);
    const page = await browser().newPage({ viewport: { width: 1280, height: 900 } });
    const errors = collectErrors(page);
    try {
      expect((await subscribeTo(relay, healthy)).error).toBeUndefined();
      expect((await subscribeTo(relay, failing, {}, { key: keys.bob })).error).toBeUndefined();
      for (let i = 0; i < 3; i++) await ingest(relay);
      await healthy.deliveries.until(() => healthy.accepted().length === 3, '3 deliveries');
      await failing.deliveries.until(() => failing.controls('gap').length === 3, 'the 3 events abandoned');

      await page.goto(`${relay.url}/dashboard`);
      await enterKey(page, keys.alice);
      const panel = page.getByTestId('callbacks');
      // 3 deliveries; 3 events × 3 failed attempts, then 3 gap envelopes answered 200.
      await panel.locator('#cb-attempts', { hasText: '15 attempts · 3 abandoned' }).waitFor();
      expect(await text(page, '#cb-delivered')).toBe('3');
      expect(await text(page, '#cb-active')).toBe('2 active');
      expect(await text(page, '#cb-suspended')).toBe('0 suspended');
      expect(await text(page, '#cb-p50')).toMatch(/^\d+ ms$/);
      expect(await text(page, '#cb-p99')).toMatch(/^p99 \d+ ms · 3 events$/);
      expect(await page.locator('#cb-failures tr').allTextContents()).toEqual(['http_5xx9']);
      expect(await text(page, '#cb-ended')).toBe('none ended');
      await panel.scrollIntoViewIfNeeded();
      await page.screenshot({ path: `${OUTPUT}/dashboard-webhooks.png`, fullPage: true });
      expect(unexpected(errors, 401)).toEqual([]);
    } finally {
      await page.close();
      await relay.close();
      await healthy.stop();
      await failing.stop();
    }
  });

  it('asks for the API key once when the relay requires one, then streams with it', async () => {
    const key = 'dashboard-test-key-0123456789';
    const relay = await startTestRelay({ RELAY_API_KEYS: `${key}:operator` });
    const page = await browser().newPage({ viewport: { width: 1280, height: 800 } });
    const errors = collectErrors(page);
    try {
      await page.goto(`${relay.url}/dashboard`);
      await enterKey(page, key);
      await page.locator('#feed-state', { hasText: 'feed: live' }).waitFor();
      await page.locator('#health', { hasText: 'ok' }).waitFor();
      const id = await sendWebhook(relay, 'refund', 'evt_dashboard_key');
      await page.locator(`#events li[data-id="${id}"]`).waitFor();
      expect(await page.evaluate('sessionStorage.length')).toBe(1);
      // Chromium logs every non-2xx fetch; the 401s that made the page ask for the key are expected.
      expect(unexpected(errors, 401)).toEqual([]);
    } finally {
      await page.close();
      await relay.close();
    }
  });
});
