import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/app.js';
import { eventually, modernPost, modernStream, postStandardWebhook, rawLegacySession, readRpc } from '../support/mcp-clients.js';
import { exited, logRecord, type RelayProcess, serveRelay } from '../support/relay-process.js';
import { secretEnv } from '../support/relay.js';

/** Generous: a loaded machine slows the exit, it must not fail the test; nothing here measures time. */
const EXIT_WAIT_MS = 60_000;

const dir = mkdtempSync(join(tmpdir(), 'relay-shutdown-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function serve(env: Record<string, string>): Promise<RelayProcess> {
  const relay = await serveRelay({ RELAY_STORE: 'memory', ...secretEnv, ...env });
  children.push(relay.child);
  return relay;
}

/** A reaction that never returns: the relay's shutdown waits for the event in hand, forever. */
function hangingHandlerModule(): string {
  const path = join(dir, 'hanging-handler.mjs');
  writeFileSync(
    path,
    `export const handlers = [{
  name: 'hangs',
  on: 'payment.failed',
  handle() {
    process.stdout.write(JSON.stringify({ msg: 'handler started' }) + '\\n');
    return new Promise(() => {});
  },
}];
`,
  );
  return path;
}

/** A relay whose shutdown cannot finish: a reaction is in hand and never returns. */
async function stuckRelay(graceEnv: string): Promise<RelayProcess> {
  const relay = await serve({ RELAY_REACTIONS: 'on', RELAY_HANDLERS: hangingHandlerModule(), RELAY_SHUTDOWN_GRACE: graceEnv });
  expect((await postStandardWebhook(relay, { type: 'payment.failed' })).status).toBe(200);
  await eventually(async () => (logged(relay, 'handler started') ? true : undefined), 'the reaction started');
  return relay;
}

/**
 * Makes the relay write `lines` log lines at once: pipelined deliveries on one socket to a
 * source that does not exist, each refused and logged; resolves once every answer arrived,
 * so every line was handed to the logger.
 */
async function floodLog(relay: RelayProcess, lines: number): Promise<void> {
  const request = `POST /webhooks/${'x'.repeat(64)} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n`;
  const socket = connect(relay.port, '127.0.0.1');
  let answers = 0;
  await new Promise<void>((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => {
      answers += chunk.toString('latin1').split('HTTP/1.1 404').length - 1;
      if (answers === lines) resolve();
    });
    socket.on('error', reject);
    socket.write(request.repeat(lines));
  });
  socket.destroy();
}

const logged = (relay: RelayProcess, msg: string) => relay.lines.some((line) => logRecord(line)?.msg === msg);

describe('mcp-event-relay serve stopping', () => {
  it(
    'exits on SIGTERM with streams, a session and a long poll open after the reader of its stdout and stderr is gone',
    async () => {
      const relay = await serve({});
      const target = { url: relay.url } as Relay;
      const feed = await fetch(`${relay.url}/feed`);
      expect(feed.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const push = await modernStream(target, { cursor: null });
      const session = await rawLegacySession(target);
      const legacyPush = await session.stream({ cursor: null });
      const { cursor } = (await readRpc(await modernPost(target, 'events/poll', { name: 'cx_events', cursor: null }))).result!;
      const longPoll = modernPost(target, 'events/poll', { name: 'cx_events', cursor, timeoutMs: 600_000 }).then((res) => res.text()).catch(() => undefined);

      relay.child.stdout!.destroy();
      relay.child.stderr!.destroy();
      // Its next log lines meet a broken pipe: one about a webhook, then the ones of the shutdown.
      expect((await postStandardWebhook(relay)).status).toBe(200);
      relay.child.kill('SIGTERM');
      expect(await exited(relay.child)).toBe(0);
      await Promise.all([push.done, legacyPush.done, longPoll, feed.body?.cancel().catch(() => undefined)]);
    },
    EXIT_WAIT_MS,
  );

  it(
    'exits on SIGTERM while its stdout pipe is full and nobody reads it',
    async () => {
      const relay = await serve({});
      relay.child.stdout!.pause();
      // Far more than a pipe holds: most of it still waits in the relay when the signal comes.
      await floodLog(relay, 4000);
      relay.child.kill('SIGTERM');
      expect(await exited(relay.child)).toBe(0);
    },
    EXIT_WAIT_MS,
  );

  it(
    'exits by RELAY_SHUTDOWN_GRACE when the shutdown cannot finish, saying so',
    async () => {
      const relay = await stuckRelay('1s');
      relay.child.kill('SIGTERM');
      expect(await exited(relay.child)).toBe(1);
      expect(logged(relay, 'shutting down')).toBe(true);
      expect(logged(relay, 'shutdown did not finish within RELAY_SHUTDOWN_GRACE: exiting')).toBe(true);
    },
    EXIT_WAIT_MS,
  );

  it(
    'exits at once on a second signal during a slow shutdown',
    async () => {
      const relay = await stuckRelay('1h');
      relay.child.kill('SIGTERM');
      await eventually(async () => (logged(relay, 'shutting down') ? true : undefined), 'the shutdown started');
      relay.child.kill('SIGTERM');
      expect(await exited(relay.child)).toBe(1);
      expect(logged(relay, 'second signal: exiting without finishing the shutdown')).toBe(true);
    },
    EXIT_WAIT_MS,
  );
});
