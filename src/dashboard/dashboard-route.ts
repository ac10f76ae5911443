import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';

/**
 * Everything the page loads comes from the relay itself: no inline script or style, no
 * other origin, no framing — the page shows operational data and may hold an API key.
 */
const CONTENT_SECURITY_POLICY = "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'";

/**
 * The page's static files. Run from source (tsx, vitest) they sit beside this module; built,
 * this module runs from dist/src/dashboard/ and tsc does not copy them, so they are read
 * from the package's src/dashboard/assets/.
 */
export function dashboardAssetsDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'assets'), join(here, '..', '..', '..', 'src', 'dashboard', 'assets')];
  const found = candidates.find((dir) => existsSync(join(dir, 'index.html')));
  if (!found) throw new Error(`dashboard assets not found (looked in ${candidates.join(', ')})`);
  return found;
}

/**
 * `/dashboard`: a static page that reads `/feed` and `/status` like any other client, with
 * the same credentials — so serving it needs none, and it holds no data of its own.
 */
export function dashboardRouter(): express.Router {
  const dir = dashboardAssetsDir();
  const router = express.Router();
  router.use((_req, res, next) => {
    res.set({
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-cache',
    });
    next();
  });
  router.get('/', (_req, res) => res.sendFile(join(dir, 'index.html')));
  router.use(express.static(dir, { index: false, redirect: false }));
  return router;
}
