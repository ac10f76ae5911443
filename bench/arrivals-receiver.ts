import { serveChild } from './child-server.js';
import { sharedNow } from './sse-subscription.js';

/**
 * The `webhooks` benchmark's subscriber, in its own process: bare `node:http` that reads each
 * POST to its end, notes its `webhook-id` and the moment its body was in (on the machine's
 * shared clock), and answers 200 `{}` — for the relay's callbacks and the bare loop alike.
 * It checks no signature: the work is the same for both, and the run's own checks compare
 * ids. The relay's verification challenge (`webhook-id` `msg_verification_…`) is echoed, as a
 * subscriber must. `GET /arrivals` hands over what arrived since the last call;
 * other GETs answer 200 (the readiness probe).
 */

const OK = Buffer.from('{}');
const HEADERS = { 'content-type': 'application/json', 'content-length': String(OK.length) };

let ids: string[] = [];
let at: number[] = [];
let bytes = 0;

serveChild((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const arrived = sharedNow();
    if (req.method !== 'POST') {
      if (req.url !== '/arrivals') return void res.writeHead(200, HEADERS).end(OK);
      const body = JSON.stringify({ ids, at, bytes });
      [ids, at, bytes] = [[], [], 0];
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    }
    const body = Buffer.concat(chunks);
    const id = String(req.headers['webhook-id']);
    if (id.startsWith('msg_verification_')) {
      const { challenge } = JSON.parse(body.toString()) as { challenge: string };
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ challenge }));
    }
    ids.push(id);
    at.push(arrived);
    bytes += body.length;
    res.writeHead(200, HEADERS).end(OK);
  });
});
