import type { IncomingMessage, ServerResponse } from 'node:http';
import { serveChild } from './child-server.js';
import { SUBSCRIPTION_ID_META_KEY } from './sse-subscription.js';

/**
 * The `scale` benchmark's baseline: a bare `node:http` SSE broadcast server that writes the
 * relay's own frames. It keeps no log, parses nothing per event and checks no limit: what any
 * SSE server pays to put the same bytes on the same sockets. Runs in its own process and
 * listens on HOST:PORT.
 *
 * - `POST /mcp`: a subscription, answered like the relay's `events/stream`: the same headers,
 *   the same `notifications/events/active` frame. A request with a non-null `cursor` first gets
 *   the replay set by `/frames`, paced by the socket as the relay paces a backlog.
 * - `POST /publish`: the body is an event frame captured from the relay, up to its `"_meta":`;
 *   each subscriber gets it with its own `_meta` tail, so frames are byte-identical to the relay's.
 *   Answers 200 `{"seq":"…"}` (publish order) once every write is made, as the relay's append
 *   answers after its fan-out.
 * - `POST /frames`: `{"heads": [...], "replay": n}`, what a replay request receives.
 */

const STREAM_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};
const ZERO_CURSOR = '0'.repeat(26);

/** The rest of a frame after its shared head: this subscriber's `_meta`, closing braces, blank line. */
const live = new Map<ServerResponse, Buffer>();
let replayHeads: string[] = [];
let replayCount = 0;
let published = 0;

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

async function subscribe(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const request = JSON.parse((await readBody(req)).toString()) as { id: number; params: { cursor: string | null } };
  const meta = `{"${SUBSCRIPTION_ID_META_KEY}":${JSON.stringify(request.id)}}`;
  const tail = `${meta}}}\n\n`;
  res.writeHead(200, STREAM_HEADERS);
  res.write(`event: message\ndata: {"jsonrpc":"2.0","method":"notifications/events/active","params":{"cursor":"${ZERO_CURSOR}","truncated":false,"_meta":${meta}}}\n\n`);
  res.on('close', () => live.delete(res));
  if (request.params.cursor !== null) {
    for (let i = 0; i < replayCount && !res.destroyed; i++) {
      res.write(replayHeads[i % replayHeads.length]! + tail);
      if (res.writableNeedDrain) await drained(res);
    }
  }
  if (!res.destroyed) live.set(res, Buffer.from(tail));
}

/** Publishes received in the current event-loop turn, broadcast together at its end. */
let pending: { head: Buffer; res: ServerResponse }[] = [];

/**
 * Every event published in one turn goes out in one pass, as the relay's group commit hands
 * a follower every event committed together: each socket then flushes once per turn, not
 * once per event.
 */
function broadcast(): void {
  const batch = pending;
  pending = [];
  for (const [subscriber, tail] of live) for (const { head } of batch) subscriber.write(Buffer.concat([head, tail]));
  for (const { res } of batch) res.writeHead(200, { 'content-type': 'application/json' }).end(`{"seq":"${String(++published).padStart(12, '0')}"}`);
}

async function publish(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const head = await readBody(req);
  if (pending.length === 0) setImmediate(broadcast);
  pending.push({ head, res });
}

async function setFrames(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const frames = JSON.parse((await readBody(req)).toString()) as { heads: string[]; replay: number };
  replayHeads = frames.heads;
  replayCount = frames.replay;
  res.writeHead(200).end();
}

const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => Promise<void>> = {
  'POST /mcp': subscribe,
  'POST /publish': publish,
  'POST /frames': setFrames,
};

serveChild((req, res) => {
  const route = routes[`${req.method} ${req.url}`];
  if (!route) {
    req.resume();
    res.writeHead(req.url === '/healthz' ? 200 : 404).end();
    return;
  }
  route(req, res).catch(() => res.destroy());
});
