import { createParser } from 'eventsource-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/app.js';
import { keys, LEGACY_VERSION, MODERN_VERSION, rawLegacySession, type RawSession, startMcpRelay } from '../support/mcp-clients.js';
import { CASES, checkAnswer, checkUnharmed, deepJsonText, FuzzRun, hostileJson, hostileString, lagProbe, MAX_LOOP_BLOCK_MS, runCases, type Verdict } from './kit.js';

const METHODS = [
  'initialize',
  'ping',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
  'resources/templates/list',
  'prompts/list',
  'events/list',
  'events/poll',
  'events/stream',
  'subscriptions/listen',
  'server/discover',
  'completion/complete',
  'logging/setLevel',
  'notifications/cancelled',
  'notifications/initialized',
] as const;
const TOOLS = ['check_pending_events', 'ack_event', 'get_customer_context'];
const URIS = ['events://alice', 'events://alice/x', 'events://bob', 'events://%E0%A4%A', 'events://', 'customer://%E0%A4%A/context', 'customer://cus_1/context', 'customer:///context'];

/** Plausible params for `method` with hostile values in them, or hostile params outright. */
function paramsFor(run: FuzzRun, method: string): unknown {
  const { prng } = run;
  const anything = () => (prng.chance(0.5) ? hostileString(run) : hostileJson(run));
  if (prng.chance(0.15)) return hostileJson(run);
  switch (method) {
    case 'tools/call':
      return {
        name: prng.chance(0.8) ? prng.pick(TOOLS) : hostileString(run),
        arguments: {
          group: prng.chance(0.5) ? `alice/${hostileString(run, 100)}` : anything(),
          types: prng.chance(0.7) ? [hostileString(run, 250)] : anything(),
          limit: prng.chance(0.5) ? prng.int(-5, 200) : anything(),
          eventId: anything(),
          eventIds: prng.chance(0.5) ? [hostileString(run, 70)] : anything(),
          customerId: hostileString(run, 300),
          leaseMs: prng.int(-1, 4_000_000),
        },
      };
    case 'resources/read':
    case 'resources/subscribe':
    case 'resources/unsubscribe':
      return { uri: prng.chance(0.6) ? prng.pick(URIS) : `${prng.pick(['events://', 'customer://', ''])}${hostileString(run, 100)}` };
    case 'events/poll':
    case 'events/stream':
      return {
        name: prng.chance(0.8) ? 'cx_events' : hostileString(run),
        arguments: prng.chance(0.7) ? { types: [hostileString(run, 250)], customerId: anything() } : anything(),
        cursor: prng.chance(0.5) ? hostileString(run, 70) : anything(),
        maxEvents: prng.chance(0.5) ? prng.int(-1, 2000) : anything(),
        maxAgeMs: prng.chance(0.5) ? prng.int(-1, 1e9) : anything(),
        timeoutMs: prng.int(0, 20),
      };
    case 'subscriptions/listen':
      return { notifications: { resourceSubscriptions: [prng.pick(URIS), hostileString(run, 100)], toolsListChanged: anything() } };
    default:
      return prng.chance(0.5) ? {} : { [hostileString(run, 30)]: anything() };
  }
}

/** Reads an answer: a JSON body, or an event stream's first message (a push stream is then dropped). */
async function readAnswer(res: Response, abort: AbortController): Promise<string> {
  if (!res.headers.get('content-type')?.includes('text/event-stream')) return res.text();
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let first: string | undefined;
  const parser = createParser({ onEvent: (event) => (first ??= event.data === '' ? undefined : event.data) });
  const deadline = setTimeout(() => abort.abort(), 2000);
  try {
    while (first === undefined) {
      const { done, value } = await reader.read();
      if (done) break;
      parser.feed(decoder.decode(value, { stream: true }));
    }
  } catch {
    // Dropped by the deadline: a stream with nothing to say yet.
  } finally {
    clearTimeout(deadline);
    abort.abort();
  }
  return first ?? '';
}

/** A JSON-RPC answer (a body or a stream's first message): an error is never the server's own failure. */
function checkRpc(verdict: Verdict, status: number, contentType: string | null, body: string): void {
  checkAnswer(verdict, status, contentType?.includes('text/event-stream') ? 'application/json' : contentType, body);
  if (body === '') return;
  const message = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
  if (message.error === undefined) return;
  verdict.check(Number.isInteger(message.error.code), () => `error without an integer code: ${body.slice(0, 200)}`);
  verdict.check(message.error.code !== -32603, () => `internal error: ${body.slice(0, 300)}`);
}

function envelope(): Record<string, unknown> {
  return {
    'io.modelcontextprotocol/protocolVersion': MODERN_VERSION,
    'io.modelcontextprotocol/clientInfo': { name: 'fuzz', version: '1' },
    'io.modelcontextprotocol/clientCapabilities': { events: {} },
  };
}

describe('fuzz: /mcp', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await startMcpRelay();
  });
  afterAll(() => relay.close());

  it('2026-07-28 requests with hostile methods, params and bodies get JSON-RPC errors, never an internal error', async () => {
    const run = new FuzzRun('mcp/2026-07-28');
    const head = await relay.log.head();
    const probe = lagProbe();
    await runCases(CASES, 8, async (index) => {
      const { prng } = run;
      const method = prng.chance(0.9) ? prng.pick(METHODS) : hostileString(run, 60);
      const params = paramsFor(run, method);
      let body: string;
      if (prng.chance(0.05)) body = `{"jsonrpc":"2.0","id":1,"method":"events/poll","params":{"_meta":${JSON.stringify(envelope())},"arguments":${deepJsonText(prng.int(65, 5000), prng.chance(0.5))}}}`;
      else if (prng.chance(0.05)) body = hostileString(run, 500);
      else {
        const withMeta = typeof params === 'object' && params !== null && !Array.isArray(params) && prng.chance(0.9) ? { ...params, _meta: envelope() } : params;
        body = JSON.stringify({ jsonrpc: '2.0', id: prng.chance(0.9) ? index : hostileJson(run), method, params: withMeta });
      }
      const headers: Record<string, string> = {
        authorization: `Bearer ${keys.alice}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': prng.chance(0.9) ? MODERN_VERSION : hostileString(run, 30).replace(/[^\x21-\x7e]/g, '') || 'x',
        'mcp-method': prng.chance(0.9) ? method.replace(/[^\x21-\x7e]/g, '') || 'x' : 'tools/call',
      };
      const verdict = run.case(index, { headers, body: body.slice(0, 300) });
      const abort = new AbortController();
      const res = await fetch(`${relay.url}/mcp`, { method: 'POST', headers, body, signal: abort.signal });
      checkRpc(verdict, res.status, res.headers.get('content-type'), await readAnswer(res, abort));
    });
    expect(probe.stop()).toBeLessThan(MAX_LOOP_BLOCK_MS);
    await checkUnharmed(run, relay, head);
  });

  it('2025-11-25 session requests with hostile methods, params and headers get JSON-RPC errors, never an internal error', async () => {
    const run = new FuzzRun('mcp/2025-11-25');
    const head = await relay.log.head();
    const sessions: RawSession[] = [];
    for (let i = 0; i < 4; i++) sessions.push(await rawLegacySession(relay));
    const probe = lagProbe();
    await runCases(CASES, 8, async (index) => {
      const { prng } = run;
      const session = prng.pick(sessions);
      const method = prng.chance(0.9) ? prng.pick(METHODS.filter((m) => m !== 'initialize')) : hostileString(run, 60);
      const message = { id: prng.chance(0.9) ? index : hostileJson(run), method, params: paramsFor(run, method) };
      const headers: Record<string, string> = prng.chance(0.1) ? { 'mcp-protocol-version': hostileString(run, 30).replace(/[^\x21-\x7e]/g, '') || LEGACY_VERSION } : {};
      if (prng.chance(0.05)) headers['last-event-id'] = hostileString(run, 80).replace(/[^\x21-\x7e]/g, '') || 's1.x';
      const verdict = run.case(index, { headers, message: JSON.stringify(message).slice(0, 300) });
      const abort = new AbortController();
      const res = prng.chance(0.05) ? await session.get(headers, abort.signal) : await session.post(message, headers, abort.signal);
      checkRpc(verdict, res.status, res.headers.get('content-type'), await readAnswer(res, abort));
    });
    expect(probe.stop()).toBeLessThan(MAX_LOOP_BLOCK_MS);
    await checkUnharmed(run, relay, head);
    const alive = await sessions[0]!.post({ id: 'still-there', method: 'ping' });
    expect(alive.status).toBe(200);
  });
});
