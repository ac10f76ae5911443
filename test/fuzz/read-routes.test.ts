import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/app.js';
import { keys, startMcpRelay } from '../support/mcp-clients.js';
import { CASES, checkAnswer, checkUnharmed, FuzzRun, hostileString, lagProbe, MAX_LOOP_BLOCK_MS, messyEncode, runCases } from './kit.js';

const PATHS = ['/feed', '/status', '/metrics', '/healthz', '/readyz', '/customers/cus_1/context', '/dashboard/', '/mcp', '/webhooks/stripe', '/', '/events'];
const QUERY_NAMES = ['types', 'sources', 'subjects', 'lastEventId', 'since', 'limit', 'x'];

describe('fuzz: read routes (/feed, /status, /metrics, /customers, paths)', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await startMcpRelay();
  });
  afterAll(() => relay.close());

  it('hostile paths, queries and headers get a page, a stream or a JSON refusal; never a stack, never a 5xx', async () => {
    const run = new FuzzRun('read-routes');
    const head = await relay.log.head();
    const probe = lagProbe();
    await runCases(CASES, 8, async (index) => {
      const { prng } = run;
      let path = prng.pick(PATHS);
      if (prng.chance(0.2)) path = `/customers/${prng.chance(0.5) ? prng.pick(['%E0%A4%A', '%', '%ZZ', '%C0%AF']) : messyEncode(run, hostileString(run, 100))}/context`;
      else if (prng.chance(0.1)) path = `/${messyEncode(run, hostileString(run, 100))}`;
      const query = Array.from({ length: prng.int(0, 4) }, () => `${prng.pick(QUERY_NAMES)}=${messyEncode(run, hostileString(run, 250))}`).join('&');
      const headers: Record<string, string> = {};
      if (prng.chance(0.9)) headers.authorization = `Bearer ${prng.chance(0.9) ? keys.alice : hostileString(run, 40).replace(/[^\x21-\x7e]/g, '')}`;
      if (prng.chance(0.1)) headers['last-event-id'] = hostileString(run, 60).replace(/[^\x20-\x7e]/g, '');
      if (prng.chance(0.05)) headers.origin = prng.pick(['https://evil.example', 'null', 'http://127.0.0.1']);
      if (prng.chance(0.05)) headers.host = prng.pick(['evil.example', '[::1', '127.0.0.1:1', '%']);
      const url = `${relay.url}${path}${query ? `?${query}` : ''}`;
      const verdict = run.case(index, { url, headers });
      const abort = new AbortController();
      let res: Response;
      try {
        res = await fetch(url, { headers, signal: abort.signal });
      } catch (error) {
        // fetch itself refuses some URLs and header values before sending; nothing reached the relay.
        if (error instanceof TypeError) return;
        throw error;
      }
      const streaming = res.headers.get('content-type')?.includes('text/event-stream');
      const body = streaming ? '' : await res.text();
      abort.abort();
      checkAnswer(verdict, res.status, res.headers.get('content-type'), body, true);
    });
    expect(probe.stop()).toBeLessThan(MAX_LOOP_BLOCK_MS);
    await checkUnharmed(run, relay, head);
  });
});
