import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';

const CHROMIUM = '/usr/bin/chromium';

/** Where the dashboard tests keep their screenshots. */
export const OUTPUT = 'test-output';

/** Debian's chromium, headless. */
async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: the dashboard test needs Debian's chromium (apt-get install -y chromium)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** One Chromium for the suite it is called in (launched before its tests, closed after); read it inside a test. */
export function suiteBrowser(): () => Browser {
  let browser: Browser | undefined;
  beforeAll(async () => {
    browser = await launch();
    await mkdir(OUTPUT, { recursive: true });
  });
  afterAll(() => browser?.close());
  return () => browser!;
}

/** Everything the page reports as wrong: console errors and uncaught exceptions. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`page: ${error.message}`));
  return errors;
}

/**
 * The errors left once the refusals a test provoked on purpose are set aside: Chromium logs
 * every non-2xx fetch as "the server responded with a status of N".
 */
export function unexpected(errors: string[], ...statuses: number[]): string[] {
  return errors.filter((e) => !statuses.some((status) => e.includes(`status of ${status}`)));
}

export const text = (page: Page, selector: string) => page.locator(selector).textContent();

/** Types the API key into the page's prompt. */
export async function enterKey(page: Page, key: string): Promise<void> {
  await page.locator('#key-form').waitFor();
  await page.fill('#api-key', key);
  await page.click('#key-form button');
}
