import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/app.js';
import { keys, startMcpRelay } from '../support/mcp-clients.js';
import { CASES, checkUnharmed, FuzzRun, hostileBody, hostileString, lagProbe, MAX_LOOP_BLOCK_MS, runCases } from './kit.js';

const TARGETS = ['/mcp', '/webhooks/stripe', '/webhooks/standard', '/feed', '/status', '/healthz', '/customers/a/context', '*', 'http://127.0.0.1/healthz', '/%', '/a b', '//'];

/** One request as raw bytes: a request line, header lines and a body, each possibly malformed. */
function rawRequest(run: FuzzRun, port: number): Buffer {
  const { prng } = run;
  const method = prng.chance(0.8) ? prng.pick(['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'HEAD']) : hostileString(run, 20);
  const target = prng.chance(0.8) ? prng.pick(TARGETS) : hostileString(run, 200);
  const version = prng.chance(0.85) ? 'HTTP/1.1' : prng.pick(['HTTP/1.0', 'HTTP/2.0', 'HTTP/9.9', 'HTTP/1.1 extra', '', 'HTTP/']);
  const lines = [`${method} ${target} ${version}`];
  if (prng.chance(0.9)) lines.push(`Host: ${prng.chance(0.9) ? `127.0.0.1:${port}` : hostileString(run, 50)}`);
  if (prng.chance(0.7)) lines.push(`Authorization: Bearer ${keys.alice}`);
  const body = prng.chance(0.6) ? hostileBody(run) : '';
  for (let i = prng.int(0, 6); i > 0; i--) {
    switch (prng.int(0, 8)) {
      case 0:
        lines.push(`Content-Length: ${prng.pick([String(body.length), '-1', '99999999999999999999', 'abc', `${body.length}, ${body.length + 1}`])}`);
        break;
      case 1:
        lines.push(`Transfer-Encoding: ${prng.pick(['chunked', 'gzip, chunked', 'identity', 'chunked, chunked', hostileString(run, 20)])}`);
        break;
      case 2:
        lines.push(`X-Big: ${'a'.repeat(prng.int(1000, 20_000))}`);
        break;
      case 3:
        lines.push(`${hostileString(run, 30)}: ${hostileString(run, 60)}`);
        break;
      case 4:
        lines.push(hostileString(run, 60));
        break;
      case 5:
        lines.push(' folded continuation');
        break;
      case 6:
        lines.push(`Content-Type: ${prng.pick(['application/json', 'text/plain', 'application/json; charset=latin1', hostileString(run, 40)])}`);
        break;
      default:
        lines.push(`Mcp-Session-Id: ${hostileString(run, 40)}`);
    }
  }
  const head = `${lines.join(prng.chance(0.95) ? '\r\n' : '\n')}\r\n\r\n`;
  const chunked = lines.some((l) => /^transfer-encoding:.*chunked/i.test(l)) && prng.chance(0.5);
  const payload = chunked ? `${prng.pick([body.length.toString(16), 'zz', '-1', 'ffffffffffffffff'])}\r\n${body}\r\n0\r\n\r\n` : body;
  return Buffer.from(head + payload, 'latin1');
}

/** Sends `bytes`, half-closes, and collects whatever comes back until the server closes. */
function exchange(port: number, bytes: Buffer, split: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const done = () => resolve(Buffer.concat(chunks).toString('latin1'));
    socket.setTimeout(5000, () => socket.destroy());
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('close', done);
    socket.on('error', () => undefined);
    socket.on('connect', () => {
      socket.write(bytes.subarray(0, split));
      socket.end(bytes.subarray(split));
    });
  });
}

describe('fuzz: raw HTTP framing', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await startMcpRelay();
  });
  afterAll(() => relay.close());

  it('malformed request lines, headers and chunking get a 4xx or a closed socket; never a 5xx, never a stack', async () => {
    const run = new FuzzRun('framing');
    const port = Number(new URL(relay.url).port);
    const head = await relay.log.head();
    const probe = lagProbe();
    await runCases(Math.ceil(CASES / 2), 16, async (index) => {
      const bytes = rawRequest(run, port);
      const verdict = run.case(index, bytes.toString('latin1').slice(0, 300));
      const answer = await exchange(port, bytes, run.prng.int(0, bytes.length));
      for (const status of answer.matchAll(/HTTP\/1\.[01] (\d{3})/g)) {
        verdict.check(Number(status[1]) < 500, () => `answered ${status[1]}: ${answer.slice(0, 300)}`);
      }
      verdict.check(!/\n\s+at [^\n]*\(|node_modules|\.ts:\d+|\.js:\d+/.test(answer), () => `answer leaks internals: ${answer.slice(0, 400)}`);
      verdict.check(!/<html/i.test(answer) || /\/dashboard/.test(bytes.toString('latin1', 0, 60)), () => `answered with an HTML error page: ${answer.slice(0, 300)}`);
    });
    expect(probe.stop()).toBeLessThan(MAX_LOOP_BLOCK_MS);
    await checkUnharmed(run, relay, head);
  });
});
